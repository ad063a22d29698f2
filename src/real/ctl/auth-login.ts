// etcdctl's --user and --password: "name:password", or a name with --password, or a name alone and
// the password asked for. The login happens once, before the command, against --endpoints; every
// client the command makes then sends the token (etcd's client logs in when it dials).
import type { CallOptions, CtlClient } from "./ctl-client.js";
import { errorText } from "./errors.js";
import { CtlError, ExitCode } from "./exit.js";
import { flag, type Flags, type FlagSpec } from "./flags.js";
import type { Sink } from "./output.js";
import type { StdinReader } from "./stdin.js";

export const AUTH_GLOBAL_FLAGS: readonly FlagSpec[] = [
  flag(
    "user",
    "string",
    "",
    "username[:password] for authentication (prompt if password is not supplied)",
  ),
  flag(
    "password",
    "string",
    "",
    "password for authentication (if this option is used, --user option shouldn't include password)",
  ),
];

export interface UserCredentials {
  readonly name: string;
  /** Undefined: ask for it. */
  readonly password: string | undefined;
}

/** The credentials --user and --password give, if any (etcdctl's authCfgFromCmd). */
export function userCredentials(f: Flags): UserCredentials | undefined {
  const user = f.string("user");
  if (user === "") return undefined;
  const password = f.string("password");
  if (password !== "") return { name: user, password };
  const colon = user.indexOf(":");
  if (colon < 0) return { name: user, password: undefined };
  return { name: user.slice(0, colon), password: user.slice(colon + 1) };
}

/** Asks for a password on stderr and reads one line of stdin. */
export async function askPassword(
  prompt: string,
  stderr: Sink,
  stdin: StdinReader,
): Promise<string> {
  stderr.write(prompt);
  const { line } = await stdin.nextLine();
  return line.replace(/\r$/, "");
}

/**
 * Logs in and answers the token. A failure ends the command as etcdctl's failed dial does: the
 * server's message and exit code 2.
 */
export async function login(
  client: CtlClient,
  user: UserCredentials,
  ask: () => Promise<string>,
  call: CallOptions,
): Promise<string> {
  const password = user.password ?? (await ask());
  try {
    const resp = await client.call(
      "etcdserverpb.Auth",
      "Authenticate",
      { name: user.name, password },
      call,
    );
    return String(resp.token ?? "");
  } catch (e) {
    throw new CtlError(ExitCode.BadConnection, errorText(e));
  } finally {
    client.close();
  }
}
