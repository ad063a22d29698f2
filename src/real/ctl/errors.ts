// How a failed call reads in etcdctl's "Error: ..." line. etcd's Go client turns a status that
// carries one of etcd's messages into that message alone, a deadline into "context deadline
// exceeded", and leaves any other status as grpc-go spells it.

import { CtlError, ExitCode } from "./exit.js";

/** grpc-go's names of the status codes, by number. */
const GO_CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

const DEADLINE_EXCEEDED = 4;
const CANCELLED = 1;

interface StatusLike {
  readonly code: number;
  readonly details: string;
  readonly etcd?: { readonly message: string };
}

function isStatusLike(e: unknown): e is StatusLike {
  const s = e as Partial<StatusLike> | null;
  return (
    typeof s === "object" &&
    s !== null &&
    typeof s.code === "number" &&
    typeof s.details === "string"
  );
}

/** The text etcdctl would print for `e`. */
export function errorText(e: unknown): string {
  if (e instanceof CtlError) return e.message;
  if (isStatusLike(e)) {
    if (e.etcd !== undefined) return e.etcd.message;
    if (e.code === DEADLINE_EXCEEDED) return "context deadline exceeded";
    if (e.code === CANCELLED) return "context canceled";
    return `rpc error: code = ${GO_CODE_NAMES[e.code] ?? String(e.code)} desc = ${e.details}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Whether `e` is etcd's error `name` (as the gRPC client reports it). */
export function isEtcdErrorNamed(e: unknown, name: string): boolean {
  return isStatusLike(e) && (e.etcd as { name?: string } | undefined)?.name === name;
}

/**
 * Awaits a request; a failure ends the command with etcdctl's text for it (optionally wrapped, as
 * in "failed to grant lease (...)") and exit code 1 unless told otherwise.
 */
export async function request<T>(
  pending: Promise<T>,
  wrap: (message: string) => string = (m) => m,
  code: ExitCode = ExitCode.Error,
): Promise<T> {
  try {
    return await pending;
  } catch (e) {
    if (e instanceof CtlError) throw e;
    throw new CtlError(code, wrap(errorText(e)));
  }
}
