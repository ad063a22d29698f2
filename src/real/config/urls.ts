// URL lists of the server flags, checked the way etcd checks them: every URL is scheme://host:port
// with no path; URLs to listen on must name an IP address (or localhost); URLs to advertise must
// name a host. http and https are served (https with the TLS flags); unix sockets are refused here
// with a message that says so.
import { err, ok, type Result } from "../../lib/result.js";

/** A URL to listen on, with the address to bind. */
export interface ListenURL {
  /** The normalized URL, "http://host:port" or "https://host:port" (IPv6 hosts in brackets). */
  readonly url: string;
  /** "https" is served with TLS. */
  readonly scheme: "http" | "https";
  /** The host as written, without IPv6 brackets ("localhost", "0.0.0.0", "::1"). */
  readonly host: string;
  readonly port: number;
  /** The address to bind: the host itself, except "localhost", which binds 127.0.0.1. */
  readonly bindHost: string;
}

interface SplitURL {
  readonly scheme: "http" | "https";
  readonly host: string;
  readonly port: number;
  readonly bracketed: boolean;
}

const AUTHORITY = /^(\[[^\]]*\]|[^[\]/?#:@]*)(?::([^/?#]*))?(.*)$/;

/** Splits "scheme://host:port" or says, in etcd's words where it has some, what is wrong. */
function splitURL(raw: string): Result<SplitURL, string> {
  const text = raw.trim();
  const schemeEnd = text.indexOf("://");
  const scheme = schemeEnd > 0 ? text.slice(0, schemeEnd).toLowerCase() : "";
  if (scheme !== "http" && scheme !== "https") {
    if (scheme === "unix" || scheme === "unixs")
      return err(`URL scheme ${scheme} needs unix sockets, not supported yet: ${text}`);
    return err(`URL scheme must be http or https: ${JSON.stringify(text)}`);
  }
  const match = AUTHORITY.exec(text.slice(schemeEnd + 3));
  if (match === null) return err(`URL address does not have the form "host:port": ${text}`);
  const [, hostPart = "", portPart, rest = ""] = match;
  if (portPart === undefined || !/^\d{1,5}$/.test(portPart) || Number(portPart) > 65535)
    return err(`URL address does not have the form "host:port": ${text}`);
  if (rest !== "") return err(`URL must not contain a path: ${text}`);
  const bracketed = hostPart.startsWith("[");
  const host = bracketed ? hostPart.slice(1, -1) : hostPart;
  return ok({ scheme, host, port: Number(portPart), bracketed });
}

function normalized(u: SplitURL): string {
  const host = u.bracketed ? `[${u.host}]` : u.host;
  return `${u.scheme}://${host}:${u.port}`;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `host` is an IP address literal (IPv4 dotted quad, or IPv6 as written in brackets). */
function isIP(host: string, bracketed: boolean): boolean {
  if (IPV4.test(host)) return true;
  return bracketed && /^[0-9a-fA-F:.]+$/.test(host) && host.includes(":");
}

/** Splits a comma-separated list; duplicates go, and the rest are sorted (as etcd does). */
function eachURL<T>(
  list: string,
  parse: (raw: string) => Result<{ key: string; value: T }, string>,
): Result<T[], string> {
  const parts = list.split(",");
  const byKey = new Map<string, T>();
  for (const part of parts) {
    const parsed = parse(part);
    if (!parsed.ok) return parsed;
    if (!byKey.has(parsed.value.key)) byKey.set(parsed.value.key, parsed.value.value);
  }
  const keys = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ok(keys.map((k) => byKey.get(k) as T));
}

/** One URL to advertise: any non-empty host. Returns the normalized URL. */
export function parseAdvertiseURL(raw: string): Result<string, string> {
  const split = splitURL(raw);
  if (!split.ok) return split;
  if (split.value.host === "") return err(`unexpected empty host (${raw.trim()})`);
  return ok(normalized(split.value));
}

/** One URL to listen on: the host must be an IP address or localhost (etcd's checkBindURLs). */
export function parseListenURL(raw: string): Result<ListenURL, string> {
  const split = splitURL(raw);
  if (!split.ok) return split;
  const { scheme, host, port, bracketed } = split.value;
  if (host !== "localhost" && !isIP(host, bracketed))
    return err(`expected IP in URL for binding (${raw.trim()})`);
  const bindHost = host === "localhost" ? "127.0.0.1" : host;
  return ok({ url: normalized(split.value), scheme, host, port, bindHost });
}

/** A comma-separated list of URLs to advertise, deduplicated and sorted. */
export function parseAdvertiseURLs(list: string): Result<string[], string> {
  return eachURL(list, (raw) => {
    const u = parseAdvertiseURL(raw);
    return u.ok ? ok({ key: u.value, value: u.value }) : u;
  });
}

/** A comma-separated list of URLs to listen on, deduplicated and sorted. */
export function parseListenURLs(list: string): Result<ListenURL[], string> {
  return eachURL(list, (raw) => {
    const u = parseListenURL(raw);
    return u.ok ? ok({ key: u.value.url, value: u.value }) : u;
  });
}
