/** The address of a member or a client on the network. */
export type EndpointId = string;

/**
 * Network: best-effort delivery of messages between endpoints.
 * Contract: `send` never blocks and never delivers synchronously; the message reaches the handler
 * of `to` later, at most as often as the network decides (it may be dropped, delayed, duplicated
 * or reordered; a partition drops it). The sender keeps no ownership: it must not mutate a message
 * after sending it, and a receiver must not mutate a message it receives (the simulator may deliver
 * the same object twice). Messages to an endpoint that is not attached are dropped.
 */
export interface Network<M> {
  attach(id: EndpointId, handler: (from: EndpointId, message: M) => void): void;
  detach(id: EndpointId): void;
  send(from: EndpointId, to: EndpointId, message: M): void;
}
