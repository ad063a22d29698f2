// The real ClientFactory: detcd's gRPC client (src/real/grpc/client.ts) over plain TCP.

import { EtcdClient } from "../grpc/client.js";
import type { ClientFactory, CtlClient } from "./ctl-client.js";

export const grpcClientFactory: ClientFactory = (endpoints): CtlClient =>
  new EtcdClient({ endpoints });
