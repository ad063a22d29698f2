// Joining a running cluster (--initial-cluster-state=existing), as etcd does it: the operator first
// adds the member with MemberAdd, then starts it with the peer URLs it was added under. The new
// member asks the members named in --initial-cluster, over their peer ports, for the cluster's
// identity: its id, the bootstrap member list its Raft log starts from, and the current member
// list, in which it finds itself by its peer URLs. Over https peer URLs the question goes with the
// member's peer TLS (its certificate, the peer CA).
import { fromUtf8, utf8 } from "../../lib/bytes.js";
import type { MemberInfo } from "../../server/membership.js";
import { queryPeer } from "../peer/transport.js";
import type { TlsEndpoint } from "../tls/reloading-tls.js";

/** What a member answers a joining member. */
export interface ClusterView {
  readonly clusterId: bigint;
  readonly bootstrapMembers: readonly MemberInfo[];
  readonly members: readonly MemberInfo[];
}

const MEMBERS_QUERY = "members/v1";

/** The onQuery handler of a running member. */
export function answerMembersQuery(body: Uint8Array, view: () => ClusterView): Uint8Array {
  const asked = fromUtf8(body);
  if (asked !== MEMBERS_QUERY) throw new Error(`unknown peer query ${JSON.stringify(asked)}`);
  const v = view();
  return utf8(
    JSON.stringify({
      clusterId: v.clusterId.toString(),
      bootstrapMembers: v.bootstrapMembers,
      members: v.members,
    }),
  );
}

function parseView(bytes: Uint8Array): ClusterView {
  const json = JSON.parse(fromUtf8(bytes)) as {
    clusterId: string;
    bootstrapMembers: MemberInfo[];
    members: MemberInfo[];
  };
  return {
    clusterId: BigInt(json.clusterId),
    bootstrapMembers: json.bootstrapMembers,
    members: json.members,
  };
}

export interface JoinPlan {
  readonly id: number;
  readonly view: ClusterView;
}

/**
 * Asks each peer URL in turn until one answers, then finds the member whose peer URLs are
 * `advertisePeerURLs`. Errors say what an operator must do (etcd's wording where it has one).
 */
export async function planJoin(
  peerURLs: readonly string[],
  advertisePeerURLs: readonly string[],
  timeoutMs: number,
  tls?: TlsEndpoint,
): Promise<JoinPlan> {
  const failures: string[] = [];
  for (const url of peerURLs) {
    try {
      const answer = await queryPeer(url, utf8(MEMBERS_QUERY), {
        timeoutMs,
        ...(tls === undefined ? {} : { tls }),
      });
      const view = parseView(answer);
      return { id: findSelf(view, advertisePeerURLs), view };
    } catch (e) {
      if (e instanceof JoinError) throw e;
      failures.push(`${url}: ${(e as Error).message}`);
    }
  }
  throw new JoinError(
    `cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs (${failures.join("; ")})`,
  );
}

export class JoinError extends Error {
  override name = "JoinError";
}

function findSelf(view: ClusterView, advertisePeerURLs: readonly string[]): number {
  const wanted = [...advertisePeerURLs].sort().join(",");
  const me = view.members.find((m) => [...m.peerURLs].sort().join(",") === wanted);
  if (me === undefined) {
    throw new JoinError(
      `member with peer URLs ${wanted} is not in the cluster: add it with "member add" first`,
    );
  }
  if (me.name !== "") {
    throw new JoinError(`member ${me.id.toString(16)} has already been bootstrapped`);
  }
  return me.id;
}
