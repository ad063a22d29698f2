// The operator of a KV cluster: membership changes through the Cluster API, made the way a person
// with etcdctl makes them. One change at a time, in the order asked; each request goes to an
// endpoint of the cluster over the simulated network, so it meets the run's faults. A request that
// fails or times out is tried again after a pause, and every try after the first starts with a
// linearizable MemberList: an earlier try whose answer was lost may have taken effect, and the list
// says whether it did (an addition shows its peer URL, a promotion a voter, a removal an absence).
//
//   add       MemberAdd with the new machine's peer URL, as a learner or a voter; once the
//             cluster chose the id, the member starts on its machine (KvCluster.join).
//   promote   MemberPromote, tried again while etcd answers "can only promote a learner member
//             which is in sync with leader" (the learner is still catching up).
//   remove    MemberRemove; the removed member stops by itself (KvCluster follows it).
//   replace   remove, then stop the machine's process and wipe its data, then add a new member on
//             the same machine (same name and peer URL, a fresh id) as a learner, and promote it if
//             the member replaced was a voter.
//
// No change starts after the deadline (the faults' end), and no try of one started before, except
// its first and the MemberList that settles a try whose outcome is unknown: an addition that took
// effect must get its member started. Every call is recorded as an operation of client
// "operator"; every change reports its outcome.
import type { ClusterMember } from "../../src/api/cluster.js";
import { unreachable } from "../../src/lib/assert.js";
import type { Prng } from "../../src/lib/prng.js";
import type { ChangeOutcome } from "../nemesis.js";
import type { OperationRecord } from "../run-artifacts.js";
import type { World } from "../world.js";
import type { ClientRequest, KvCluster } from "./kv-cluster.js";
import { SimClient, type Outcome } from "./kv-client.js";
import { operationRecord } from "./kv-traffic.js";

export interface KvOperatorOptions {
  /** No try starts at or after this virtual time, except MemberLists that settle an unknown one. */
  readonly deadlineMs: number;
  /** The pause between two tries. */
  readonly retryMs: number;
  /** How long the operator waits for an answer. */
  readonly timeoutMs: number;
}

/** What one try's answer means for its change. */
type Verdict = { readonly settled: string } | "again";

/** One change as tries of one request, judged by its answer or by a member list. */
interface Procedure {
  /** The request of a try. */
  readonly request: ClientRequest;
  /** The change is settled by this answer, or it needs another try. */
  judge(outcome: Outcome): Verdict;
  /** Whether the member list shows the change done (a string: the outcome) or not yet. */
  check(members: readonly ClusterMember[]): string | undefined;
}

/** The peer URL of a machine (a replacement keeps its machine's). */
export function peerUrlOf(name: string): string {
  return `http://${name}:2380`;
}

/** A short label for a try's outcome: "ok", an etcd error name, or "timeout". */
function label(o: Outcome): string {
  switch (o.type) {
    case "ok":
      return "ok";
    case "error":
      return o.error.name;
    case "timeout":
      return "timeout";
    default:
      return unreachable(o, "outcome");
  }
}

function errorName(o: Outcome): string | undefined {
  return o.type === "error" ? o.error.name : undefined;
}

export class KvOperator {
  /** Every call the operator made, with its outcome. */
  readonly operations: OperationRecord[] = [];
  private readonly client: SimClient;
  private readonly random: Prng;
  private readonly queue: (() => void)[] = [];
  private busy = false;
  /** Learners the operator added (or is adding), oldest first, until promoted or removed. */
  private readonly learners: string[] = [];
  /** Changes asked for and not settled yet, with their outcome callbacks. */
  private readonly open = new Set<ChangeOutcome>();

  constructor(
    private readonly world: World,
    private readonly cluster: KvCluster,
    private readonly o: KvOperatorOptions,
  ) {
    this.client = new SimClient(world, cluster.network, "operator", o.timeoutMs);
    this.random = world.stream("operator");
  }

  /** Adds a member on a new machine, as a learner or a voter; the machine's name. */
  add(asLearner: boolean, settle: ChangeOutcome): string {
    const name = this.cluster.reserveName();
    if (asLearner) this.learners.push(name);
    this.enqueue(settle, (done) => this.addMember(name, asLearner, done));
    return name;
  }

  newestLearner(): string | undefined {
    return this.learners.at(-1);
  }

  promote(name: string, settle: ChangeOutcome): void {
    this.enqueue(settle, (done) => this.promoteMember(name, done));
  }

  remove(name: string, settle: ChangeOutcome): void {
    this.enqueue(settle, (done) => this.removeMember(name, done));
  }

  replace(name: string, settle: ChangeOutcome): void {
    this.enqueue(settle, (done) => this.replaceMember(name, done));
  }

  /** Reports every change still open (the run is over). */
  finish(): void {
    for (const settle of [...this.open]) settle("unfinished when the run ended");
    this.open.clear();
  }

  private enqueue(settle: ChangeOutcome, change: (done: ChangeOutcome) => void): void {
    this.open.add(settle);
    this.queue.push(() => {
      const done = (outcome: string): void => {
        if (this.open.delete(settle)) settle(outcome);
        this.busy = false;
        this.next();
      };
      if (!this.tooLate(done)) change(done);
    });
    this.next();
  }

  private next(): void {
    if (this.busy) return;
    const change = this.queue.shift();
    if (change === undefined) return;
    this.busy = true;
    change();
  }

  /** A change due after the deadline (queued behind slower ones) is not started. */
  private tooLate(done: ChangeOutcome): boolean {
    if (this.world.nowMs < this.o.deadlineMs) return false;
    done("not started: the faults had ended");
    return true;
  }

  private addMember(name: string, asLearner: boolean, done: ChangeOutcome): void {
    const url = peerUrlOf(name);
    const started = (id: number): string => {
      this.cluster.join(name, id);
      return `ok (id ${id})`;
    };
    this.run(
      {
        request: { kind: "member-add", request: { peerURLs: [url], isLearner: asLearner } },
        judge: (o) => {
          if (o.type === "ok" && o.response.kind === "member-add") {
            return { settled: started(Number(o.response.response.member.ID)) };
          }
          // The URL is taken: an earlier try's addition took effect (the member list tells).
          return errorName(o) === "MemberBadURLs" ? { settled: "failed (MemberBadURLs)" } : "again";
        },
        check: (members) => {
          const added = members.find((m) => m.peerURLs.includes(url));
          return added === undefined ? undefined : started(Number(added.ID));
        },
      },
      (outcome) => {
        if (!outcome.startsWith("ok")) this.forgetLearner(name);
        done(outcome);
      },
    );
  }

  private promoteMember(name: string, done: ChangeOutcome): void {
    const id = this.memberId(name);
    if (id === undefined) return done("skipped (no such member)");
    this.run(
      {
        request: { kind: "member-promote", request: { ID: BigInt(id) } },
        judge: (o) => {
          if (o.type === "ok") return { settled: "ok" };
          // A voter already: an earlier try's promotion took effect. A learner still catching
          // up answers LearnerNotReady; anything else (a stale member's MemberNotFound too) is
          // settled by the member list of the next try.
          return errorName(o) === "MemberNotLearner"
            ? { settled: "ok (a voter already)" }
            : "again";
        },
        check: (members) => {
          const m = members.find((x) => Number(x.ID) === id);
          if (m === undefined) return "failed (not a member any more)";
          return m.isLearner ? undefined : "ok";
        },
      },
      (outcome) => {
        if (outcome.startsWith("ok")) this.forgetLearner(name);
        done(outcome);
      },
    );
  }

  private removeMember(name: string, done: ChangeOutcome): void {
    const id = this.memberId(name);
    if (id === undefined) return done("skipped (no such member)");
    this.removeId(id, (outcome) => {
      if (outcome.startsWith("ok")) this.forgetLearner(name);
      done(outcome);
    });
  }

  private removeId(id: number, done: ChangeOutcome): void {
    this.run(
      {
        request: { kind: "member-remove", request: { ID: BigInt(id) } },
        // MemberNotFound may come from a member that has not applied the addition yet: the
        // member list of the next try says whether the member is gone.
        judge: (o) => (o.type === "ok" ? { settled: `ok (id ${id})` } : "again"),
        check: (members) =>
          members.some((m) => Number(m.ID) === id) ? undefined : `ok (id ${id})`,
      },
      done,
    );
  }

  /** Remove, wipe, add back on the same machine as a learner, promote if it was a voter. */
  private replaceMember(name: string, done: ChangeOutcome): void {
    const id = this.memberId(name);
    if (id === undefined) return done("skipped (no such member)");
    const wasLearner = this.cluster.isLearner(name);
    this.forgetLearner(name);
    this.removeId(id, (removed) => {
      if (!removed.startsWith("ok")) return done(`not removed: ${removed}`);
      this.cluster.decommission(name);
      this.learners.push(name);
      this.addMember(name, true, (added) => {
        const steps = `removed ${removed}, wiped, added ${added}`;
        if (!added.startsWith("ok") || wasLearner) return done(steps);
        this.promoteMember(name, (promoted) => done(`${steps}, promoted ${promoted}`));
      });
    });
  }

  /** The Raft id of the member on machine `name`, if it holds one. */
  private memberId(name: string): number | undefined {
    const slot = this.cluster.slots.find((s) => s.name === name);
    return slot === undefined || slot.phase !== "member" ? undefined : slot.id;
  }

  private forgetLearner(name: string): void {
    const i = this.learners.lastIndexOf(name);
    if (i >= 0) this.learners.splice(i, 1);
  }

  /**
   * Tries `p` until it settles: the first try sends the request; each later one first reads the
   * member list (linearizably) and sends the request again only if the change does not show.
   * After the deadline only the list is read, and a change that does not show gives up.
   */
  private run(p: Procedure, done: ChangeOutcome): void {
    const tries: string[] = [];
    const settle = (outcome: string): void =>
      done(
        tries.length <= 1
          ? outcome
          : `${outcome} after ${tries.length} tries (${tries.join(", ")})`,
      );
    const again = (): void => {
      this.world.schedule(this.o.retryMs, "operator", "operator:retry", tries.length, attempt);
    };
    const send = (): void =>
      this.call(p.request, (o) => {
        tries.push(label(o));
        const verdict = p.judge(o);
        if (verdict === "again") return again();
        settle(verdict.settled);
      });
    const attempt = (): void => {
      const late = this.world.nowMs >= this.o.deadlineMs;
      this.call({ kind: "member-list", request: { linearizable: true } }, (o) => {
        if (o.type !== "ok" || o.response.kind !== "member-list") {
          tries.push(`list ${label(o)}`);
          return again();
        }
        const shown = p.check(o.response.response.members);
        if (shown !== undefined) return settle(shown);
        if (late) return settle("gave up at the faults' end");
        send();
      });
    };
    send();
  }

  /** One call to an endpoint of the cluster, recorded. */
  private call(request: ClientRequest, then: (outcome: Outcome) => void): void {
    const endpoint = this.random.pick(this.cluster.endpoints);
    const callMs = this.world.nowMs;
    this.client.call(endpoint, request, (outcome) => {
      this.operations.push(operationRecord("operator", request, callMs, this.world.nowMs, outcome));
      then(outcome);
    });
  }
}
