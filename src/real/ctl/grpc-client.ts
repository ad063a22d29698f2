// The real ClientFactory: detcd's gRPC client (src/real/grpc/client.ts), over TLS when etcdctl
// would use it: a CA, a client certificate or --insecure-skip-tls-verify given,
// --insecure-transport=false, or an https endpoint.

import { readFileSync } from "node:fs";
import { EtcdClient, type EtcdClientTls } from "../grpc/client.js";
import type { ClientFactory, CtlClient, CtlTls } from "./ctl-client.js";
import { badArgs } from "./exit.js";

export const grpcClientFactory: ClientFactory = (endpoints, tls): CtlClient => {
  const clientTls = tls === undefined ? undefined : tlsOf(tls);
  return new EtcdClient({ endpoints, ...(clientTls === undefined ? {} : { tls: clientTls }) });
};

/** The client's TLS options from the flags (files read now), or undefined for plain TCP. */
export function tlsOf(flags: CtlTls): EtcdClientTls | undefined {
  const wanted =
    flags.cacert !== "" ||
    flags.cert !== "" ||
    flags.key !== "" ||
    flags.insecureSkipVerify ||
    !flags.insecureTransport;
  if (!wanted) return undefined;
  if ((flags.cert === "") !== (flags.key === ""))
    throw badArgs(flags.cert === "" ? "--key requires --cert" : "--cert requires --key");
  return {
    ...(flags.cacert === "" ? {} : { ca: readPem(flags.cacert) }),
    ...(flags.cert === "" ? {} : { cert: readPem(flags.cert), key: readPem(flags.key) }),
    ...(flags.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
  };
}

function readPem(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw badArgs(
      code === "ENOENT" ? `open ${file}: no such file or directory` : `open ${file}: ${String(e)}`,
    );
  }
}
