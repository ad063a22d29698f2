// How storage reports failure. Corruption and I/O errors are values the member acts on (raise the
// CORRUPT alarm, stop); a broken invariant of the caller is an assertion.
import type { DiskError } from "../env/disk.js";
import type { FailpointError } from "../lib/failpoints.js";
import { unreachable } from "../lib/assert.js";

/** Data that fails its checksum or its structure, named by file and byte offset. */
export interface CorruptionError {
  readonly kind: "corrupt";
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
}

export type StorageFailure =
  | CorruptionError
  /** The disk failed (EIO, ENOSPC...): the member must stop; the WAL accepts nothing more. */
  | { readonly kind: "io"; readonly operation: string; readonly error: DiskError }
  /** A failpoint's error action fired. */
  | { readonly kind: "injected"; readonly error: FailpointError }
  /** The store was closed or had already failed before this operation. */
  | { readonly kind: "closed"; readonly cause?: StorageFailure };

export type StorageResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: StorageFailure };

export type StorageCallback<T> = (result: StorageResult<T>) => void;

export function corruption(file: string, offset: number, reason: string): CorruptionError {
  return { kind: "corrupt", file, offset, reason };
}

export function ioFailure(operation: string, error: DiskError): StorageFailure {
  return { kind: "io", operation, error };
}

/** One line for logs and alarms. */
export function describeFailure(f: StorageFailure): string {
  switch (f.kind) {
    case "corrupt":
      return `corruption in ${f.file} at offset ${f.offset}: ${f.reason}`;
    case "io":
      return `${f.error.code} on ${f.error.path} during ${f.operation}`;
    case "injected":
      return f.error.message;
    case "closed":
      return f.cause === undefined
        ? "storage closed"
        : `storage failed: ${describeFailure(f.cause)}`;
    default:
      return unreachable(f, "storage failure");
  }
}
