// What members say to each other over the peer transport: Raft messages, and the requests a
// follower forwards to the leader with their answers: lease keepalive and timetolive (answered by
// the leader's lessor, never through Raft) and MemberPromote (only the leader knows how far a
// learner got; etcd forwards it to the leader too).

import type { Result } from "../lib/result.js";
import type { EtcdError } from "../api/errors.js";
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from "../api/rpc.js";
import type { MemberPromoteRequest, MemberPromoteResponse } from "../api/cluster.js";
import type { Message } from "../raft/types.js";

export type ForwardedRequest =
  | { readonly kind: "lease-keepalive"; readonly request: LeaseKeepAliveRequest }
  | { readonly kind: "lease-timetolive"; readonly request: LeaseTimeToLiveRequest }
  | { readonly kind: "member-promote"; readonly request: MemberPromoteRequest };

export type ForwardedResponse =
  | { readonly kind: "lease-keepalive"; readonly response: LeaseKeepAliveResponse }
  | { readonly kind: "lease-timetolive"; readonly response: LeaseTimeToLiveResponse }
  | { readonly kind: "member-promote"; readonly response: MemberPromoteResponse };

/**
 * One peer message. Contract: the transport may lose, duplicate or reorder them (as it may Raft
 * messages); a forwarded request is answered at most once per copy received, and the forwarding
 * member accepts the first answer for a `forwardId` and ignores the rest.
 */
export type MemberMessage =
  | { readonly type: "raft"; readonly message: Message }
  | {
      readonly type: "forward-request";
      readonly forwardId: number;
      readonly request: ForwardedRequest;
    }
  | {
      readonly type: "forward-response";
      readonly forwardId: number;
      readonly result: Result<ForwardedResponse, EtcdError>;
    };
