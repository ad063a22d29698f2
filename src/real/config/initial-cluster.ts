// --initial-cluster: "n1=http://h1:2380,n2=http://h2:2380". A name may appear several times to give
// a member several peer URLs, as in etcd. Bootstrap checks follow etcd's VerifyBootstrap and
// VerifyJoinExisting, with their error wording; URLs compare as strings (etcd also resolves host
// names before it compares, detcd does not look names up).
import { err, ok, type Result } from "../../lib/result.js";
import { parseAdvertiseURL } from "./urls.js";

export interface InitialClusterMember {
  readonly name: string;
  /** Normalized, deduplicated and sorted. */
  readonly peerURLs: readonly string[];
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parses the flag's value; members keep the order of their first appearance. */
export function parseInitialCluster(text: string): Result<InitialClusterMember[], string> {
  const urlsByName = new Map<string, Set<string>>();
  for (const entry of text.split(",")) {
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    if (eq <= 0) return err(`entry ${JSON.stringify(entry)} is not of the form name=URL`);
    const url = parseAdvertiseURL(entry.slice(eq + 1));
    if (!url.ok) return url;
    const name = entry.slice(0, eq);
    const urls = urlsByName.get(name) ?? new Set<string>();
    urls.add(url.value);
    urlsByName.set(name, urls);
  }
  if (urlsByName.size === 0) return err("no members given");
  return ok([...urlsByName].map(([name, urls]) => ({ name, peerURLs: [...urls].sort(byString) })));
}

/** Renders members as the flag's syntax, pairs sorted (etcd's URLsMap.String). */
export function formatInitialCluster(members: readonly InitialClusterMember[]): string {
  const pairs = members.flatMap((m) => m.peerURLs.map((u) => `${m.name}=${u}`));
  return pairs.sort(byString).join(",");
}

function duplicateURL(members: readonly InitialClusterMember[]): boolean {
  const seen = new Set<string>();
  for (const url of members.flatMap((m) => m.peerURLs)) {
    if (seen.has(url)) return true;
    seen.add(url);
  }
  return false;
}

/**
 * The checks etcd makes before it bootstraps (state "new") or joins (state "existing"): the local
 * name is in the cluster, no peer URL is listed twice, and for a new cluster the local member's
 * URLs there are exactly --initial-advertise-peer-urls.
 */
export function verifyInitialCluster(
  name: string,
  members: readonly InitialClusterMember[],
  advertisePeerURLs: readonly string[],
  state: "new" | "existing",
): Result<void, string> {
  const local = members.find((m) => m.name === name);
  if (local === undefined)
    return err(
      `couldn't find local name ${JSON.stringify(name)} in the initial cluster configuration`,
    );
  if (state === "new") {
    const mismatch = advertiseMismatch(local, advertisePeerURLs);
    if (mismatch !== undefined) return err(mismatch);
  }
  if (duplicateURL(members))
    return err(`initial cluster ${formatInitialCluster(members)} has duplicate url`);
  return ok(undefined);
}

function advertiseMismatch(
  local: InitialClusterMember,
  advertisePeerURLs: readonly string[],
): string | undefined {
  const advertised = [...advertisePeerURLs].sort(byString);
  const missingFromAdvertise = local.peerURLs.filter((u) => !advertised.includes(u));
  if (missingFromAdvertise.length > 0) {
    const listed = missingFromAdvertise.map((u) => `${local.name}=${u}`).join(",");
    return `--initial-cluster has ${listed} but missing from --initial-advertise-peer-urls=${advertised.join(",")}`;
  }
  const missingFromCluster = advertised.filter((u) => !local.peerURLs.includes(u));
  if (missingFromCluster.length > 0) {
    const asCluster = formatInitialCluster([{ name: local.name, peerURLs: advertised }]);
    return `--initial-advertise-peer-urls has ${missingFromCluster.join(",")} but missing from --initial-cluster=${asCluster}`;
  }
  return undefined;
}
