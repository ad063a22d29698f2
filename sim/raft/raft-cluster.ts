// N Raft members on one simulated world and network, with the safety checker wired in.
import type { Message, NodeId } from "../../src/raft/types.js";
import { RaftSafetyChecker } from "../check/raft-safety.js";
import { Violations } from "../check/violation.js";
import { SimNetwork, type LinkFaults } from "../net.js";
import { SimHost } from "../sim-host.js";
import { digestWords, hashString } from "../trace-hash.js";
import type { World } from "../world.js";
import { RaftMember, type RaftMemberOptions } from "./raft-member.js";

export interface RaftClusterOptions {
  readonly members: number;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly link: LinkFaults;
  readonly onApply: RaftMemberOptions["onApply"];
  readonly onReadState: RaftMemberOptions["onReadState"];
}

function messageDigest(m: Message): number {
  return digestWords(
    hashString(m.type),
    m.from,
    m.to,
    m.term,
    m.logTerm,
    m.index,
    m.commit,
    m.entries.length,
    m.reject ? 1 : 0,
  );
}

export class RaftCluster {
  readonly network: SimNetwork<Message>;
  readonly violations = new Violations();
  readonly checker: RaftSafetyChecker;
  readonly members: readonly RaftMember[];

  constructor(
    readonly world: World,
    options: RaftClusterOptions,
  ) {
    this.network = new SimNetwork<Message>(world, {
      defaults: options.link,
      digest: messageDigest,
      kind: (m) => m.type,
    });
    this.checker = new RaftSafetyChecker(this.violations, () => world.nowMs);
    const ids: NodeId[] = Array.from({ length: options.members }, (_, i) => i + 1);
    this.members = ids.map(
      (id) =>
        new RaftMember({
          id,
          host: new SimHost(world, `m${id}`),
          network: this.network,
          random: world.stream(`member-${id}`),
          voters: ids,
          heartbeatMs: options.heartbeatMs,
          electionMs: options.electionMs,
          preVote: options.preVote,
          checkQuorum: options.checkQuorum,
          checker: this.checker,
          onApply: options.onApply,
          onReadState: options.onReadState,
        }),
    );
  }

  get names(): string[] {
    return this.members.map((m) => m.name);
  }

  member(name: string): RaftMember | undefined {
    return this.members.find((m) => m.name === name);
  }

  /** The up member that leads in the highest term among up members, if any. */
  leader(): RaftMember | undefined {
    let best: RaftMember | undefined;
    let maxTerm = -1;
    for (const m of this.members) {
      if (m.host.state !== "up") continue;
      maxTerm = Math.max(maxTerm, m.term);
      if (m.role === "StateLeader" && (best === undefined || m.term > best.term)) best = m;
    }
    return best !== undefined && best.term === maxTerm ? best : undefined;
  }
}
