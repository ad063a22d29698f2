// Requests only the leader answers: lease keepalive and timetolive (from the leader's lessor, never
// through Raft) and MemberPromote (the leader's view of the learner). A member that is not the leader forwards the request to the one it knows; when leadership moves meanwhile (the
// answer is NotLeader, no answer comes, or this member sees a new leader) it tries again at the
// current leader after a short pause, as etcd's LeaseRenew loop does, a bounded number of times
// and never past the request timeout.

import { err, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import type { TimerId, Timers } from "../env/timers.js";
import type { NodeId } from "../raft/types.js";
import type { ForwardedRequest, ForwardedResponse } from "./messages.js";

type Answer = Result<ForwardedResponse, EtcdError>;

export interface LeaseRequestHooks {
  readonly timers: Timers;
  readonly nowMs: () => number;
  /** Queues a callback to run after the member's Ready loop. */
  readonly defer: (callback: () => void) => void;
  /** The leader this member knows, 0 for none. */
  readonly leader: () => NodeId;
  readonly isLeader: () => boolean;
  /** Answers on this member as the leader; NotLeader if it no longer is. */
  readonly answerHere: (request: ForwardedRequest, done: (answer: Answer) => void) => void;
  readonly forward: (to: NodeId, forwardId: number, request: ForwardedRequest) => void;
  readonly requestTimeoutMs: number;
  /** One forwarded attempt with no answer by then counts as lost. */
  readonly attemptTimeoutMs: number;
  /** Pause before trying again (etcd: 50 ms). */
  readonly retryDelayMs: number;
  readonly maxAttempts: number;
}

interface Call {
  readonly request: ForwardedRequest;
  readonly done: (answer: Answer) => void;
  readonly deadlineMs: number;
  attempts: number;
  /** The forwardId of the attempt in flight to another member, if any. */
  forwardId: number | undefined;
  timer: TimerId | undefined;
  settled: boolean;
}

/**
 * The lease requests of one member. Contract: every call is answered exactly once, through
 * `defer`: the leader's answer, or NoLeader when no leader was found in time, Timeout when leaders
 * were found but none answered, or the error given to failAll.
 */
export class LeaseRequests {
  private readonly calls = new Set<Call>();
  private readonly inflight = new Map<number, Call>();
  private nextForwardId = 0;

  constructor(private readonly hooks: LeaseRequestHooks) {}

  request(request: ForwardedRequest, done: (answer: Answer) => void): void {
    const call: Call = {
      request,
      done,
      deadlineMs: this.hooks.nowMs() + this.hooks.requestTimeoutMs,
      attempts: 0,
      forwardId: undefined,
      timer: undefined,
      settled: false,
    };
    this.calls.add(call);
    this.attempt(call);
  }

  /** The leader's answer to a forwarded attempt; copies and late answers are ignored. */
  onResponse(forwardId: number, answer: Answer): void {
    const call = this.inflight.get(forwardId);
    if (call === undefined) return;
    this.endAttempt(call);
    if (!answer.ok && answer.error.name === "NotLeader") return this.retry(call, Errors.NotLeader);
    this.finish(call, answer);
  }

  /** This member saw a new leader: attempts in flight to the old one go to the new one. */
  onLeaderChanged(): void {
    for (const call of [...this.inflight.values()]) {
      this.endAttempt(call);
      this.retry(call, Errors.LeaderChanged);
    }
  }

  failAll(error: EtcdError): void {
    for (const call of [...this.calls]) this.finish(call, err(error));
  }

  private attempt(call: Call): void {
    if (call.settled) return;
    call.attempts++;
    const lead = this.hooks.leader();
    if (lead === 0) return this.retry(call, Errors.NoLeader);
    if (this.hooks.isLeader()) {
      return this.hooks.answerHere(call.request, (answer) => {
        if (!answer.ok && answer.error.name === "NotLeader") this.retry(call, Errors.NotLeader);
        else this.finish(call, answer);
      });
    }
    const forwardId = this.nextForwardId++;
    call.forwardId = forwardId;
    this.inflight.set(forwardId, call);
    const waitMs = Math.max(1, Math.min(this.hooks.attemptTimeoutMs, this.remainingMs(call)));
    call.timer = this.hooks.timers.schedule(waitMs, () => {
      call.timer = undefined;
      this.endAttempt(call);
      this.retry(call, Errors.Timeout);
    });
    this.hooks.forward(lead, forwardId, call.request);
  }

  /** Tries again after the pause, or gives up when out of attempts or time. */
  private retry(call: Call, why: EtcdError): void {
    if (call.settled) return;
    const outOfTime = this.remainingMs(call) <= this.hooks.retryDelayMs;
    if (call.attempts >= this.hooks.maxAttempts || outOfTime) {
      // etcd: NoLeader when it was still waiting for a leader, otherwise the request timed out.
      return this.finish(call, err(why.name === "NoLeader" ? Errors.NoLeader : Errors.Timeout));
    }
    call.timer = this.hooks.timers.schedule(this.hooks.retryDelayMs, () => {
      call.timer = undefined;
      this.attempt(call);
    });
  }

  private endAttempt(call: Call): void {
    if (call.forwardId !== undefined) this.inflight.delete(call.forwardId);
    call.forwardId = undefined;
    if (call.timer !== undefined) this.hooks.timers.cancel(call.timer);
    call.timer = undefined;
  }

  private finish(call: Call, answer: Answer): void {
    if (call.settled) return;
    call.settled = true;
    this.endAttempt(call);
    this.calls.delete(call);
    this.hooks.defer(() => call.done(answer));
  }

  private remainingMs(call: Call): number {
    return call.deadlineMs - this.hooks.nowMs();
  }
}
