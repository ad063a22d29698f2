// EtcdError <-> gRPC status. The server sends etcd's numeric code and its exact message (etcd's Go
// client, etcdctl and the etcd3 npm client recognise errors by the message); the client maps a
// status back to the EtcdError whose message it carries.

import { Metadata, status as Status, type ServiceError } from "@grpc/grpc-js";
import { errorFromMessage, GRPC_CODE_VALUES, type EtcdError } from "../../api/errors.js";
import { CodecError } from "./codec-wire.js";

/** A status for grpc-js (its callbacks and stream 'error' events accept this shape). */
export interface StatusObject {
  readonly code: Status;
  readonly details: string;
  readonly metadata: Metadata;
}

export function statusObject(code: Status, details: string): StatusObject & Error {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

export function statusOfEtcdError(e: EtcdError): StatusObject & Error {
  return statusObject(GRPC_CODE_VALUES[e.code] as Status, e.message);
}

/**
 * A request that could not be decoded is the client's fault (InvalidArgument); anything else
 * thrown while serving is a bug of ours (Internal), reported with its message.
 */
export function statusOfException(e: unknown): StatusObject & Error {
  if (e instanceof CodecError)
    return statusObject(Status.INVALID_ARGUMENT, `bad request: ${e.message}`);
  return internalStatus(e);
}

/** INTERNAL with the message of whatever was thrown. */
export function internalStatus(e: unknown): StatusObject & Error {
  const message = e instanceof Error ? e.message : String(e);
  return statusObject(Status.INTERNAL, `detcd: internal error: ${message}`);
}

/**
 * What a client call fails with: the gRPC status code and details, and the etcd error when the
 * details are one of etcd's messages.
 */
export class EtcdClientError extends Error {
  override readonly name = "EtcdClientError";
  constructor(
    /** The gRPC status code (grpc-js `status`). */
    readonly code: Status,
    readonly details: string,
    readonly etcd: EtcdError | undefined,
  ) {
    super(details);
  }
}

/** Maps a grpc-js error (or anything thrown) to an EtcdClientError. */
export function clientErrorOf(e: unknown): EtcdClientError {
  if (e instanceof EtcdClientError) return e;
  const service = e as Partial<ServiceError> | undefined;
  if (service !== undefined && typeof service.code === "number") {
    const details = typeof service.details === "string" ? service.details : (service.message ?? "");
    return new EtcdClientError(service.code, details, errorFromMessage(details));
  }
  if (e instanceof CodecError)
    return new EtcdClientError(Status.INVALID_ARGUMENT, e.message, undefined);
  return new EtcdClientError(Status.UNKNOWN, e instanceof Error ? e.message : String(e), undefined);
}
