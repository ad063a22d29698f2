// Real detcd processes for tests: `detcd` run from source with tsx (or the build), on loopback ports.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const DETCD = join(ROOT, "src", "cli", "detcd.ts");
const COMPILED = join(ROOT, "dist", "src", "cli", "detcd.js");

export interface DetcdProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr (its JSON log lines) so far. */
  readonly stderr: string[];
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
}

export interface StartOptions {
  /** Run the build in dist/ (what `npx detcd` runs) instead of the sources under tsx. */
  readonly compiled?: boolean;
  /**
   * Run this executable with the same flags instead of detcd (the server bench runs etcd itself
   * this way, for a reference taken on the same machine at the same moment).
   */
  readonly executable?: string;
}

export function startDetcd(
  name: string,
  flags: readonly string[],
  options: StartOptions = {},
): DetcdProcess {
  // DETCD_NODE_ARGS adds node options to every member (e.g. --cpu-prof for profiling a bench).
  const nodeArgs = (process.env["DETCD_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== "");
  const entry = options.compiled === true ? [COMPILED] : ["--import", "tsx", DETCD];
  const [command, args] =
    options.executable === undefined
      ? [process.execPath, [...nodeArgs, ...entry, ...flags]]
      : [options.executable, [...flags]];
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  const stderr: string[] = [];
  child.stderr?.on("data", (d: Buffer) => stderr.push(d.toString("utf8")));
  child.stdout?.on("data", () => {});
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { name, child, stderr, exited };
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopDetcd(p: DetcdProcess, graceMs = 5_000): Promise<number | string> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}
