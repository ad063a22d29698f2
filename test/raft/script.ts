// The golden script format and its commands.
//
// A script is a sequence of blocks separated by blank lines. A block is optional `#` comment
// lines, one command line, a `----` line, and the expected output (no blank lines inside).
// Command line: `name arg arg key=value ...`; a `|` argument separates partition groups.
import { assert } from "../../src/lib/assert.js";
import {
  describeConfState,
  type AnyConfChange,
  type ConfChangeSingle,
  type ConfChangeTransition,
  type ConfChangeType,
} from "../../src/raft/index.js";
import {
  InteractionEnv,
  bytes,
  type InitialConfig,
  type MessageFilter,
  type NodeOptions,
} from "./interaction-env.js";

export interface Block {
  /** Comment lines before the command, verbatim. */
  readonly comments: string[];
  readonly command: string;
  readonly expected: string;
  /** 1-based line of the command, for failure messages. */
  readonly line: number;
}

export function parseScript(text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === "") {
      i++;
      continue;
    }
    if (line.startsWith("#")) {
      comments.push(line);
      i++;
      continue;
    }
    assert(lines[i + 1] === "----", () => `line ${i + 2}: expected ---- after "${line}"`);
    const out: string[] = [];
    let j = i + 2;
    while (j < lines.length && (lines[j] as string).trim() !== "") out.push(lines[j++] as string);
    blocks.push({ comments, command: line, expected: out.join("\n"), line: i + 1 });
    comments = [];
    i = j;
  }
  return blocks;
}

export function renderScript(
  blocks: readonly { comments: string[]; command: string; expected: string }[],
): string {
  return (
    blocks.map((b) => [...b.comments, b.command, "----", b.expected].join("\n")).join("\n\n") + "\n"
  );
}

interface Parsed {
  readonly name: string;
  readonly args: string[];
  readonly kv: Map<string, string>;
}

function parseCommand(line: string): Parsed {
  const [name, ...rest] = line.trim().split(/\s+/);
  const args: string[] = [];
  const kv = new Map<string, string>();
  for (const tok of rest) {
    const eq = tok.indexOf("=");
    if (eq > 0) kv.set(tok.slice(0, eq), tok.slice(eq + 1));
    else args.push(tok);
  }
  return { name: name as string, args, kv };
}

function num(s: string | undefined, what: string): number {
  const n = Number(s);
  assert(s !== undefined && Number.isInteger(n), () => `${what}: not an integer: ${s}`);
  return n;
}

function flag(kv: Map<string, string>, key: string): boolean | undefined {
  const v = kv.get(key);
  return v === undefined ? undefined : v === "true";
}

function nodeOptions(kv: Map<string, string>): NodeOptions {
  const readOnly = kv.get("read-only");
  return {
    electionTick: kv.has("election") ? num(kv.get("election"), "election") : 10,
    heartbeatTick: kv.has("heartbeat") ? num(kv.get("heartbeat"), "heartbeat") : 1,
    maxInflightMsgs: kv.has("max-inflight") ? num(kv.get("max-inflight"), "max-inflight") : 256,
    maxSizePerMsg: kv.has("max-size") ? num(kv.get("max-size"), "max-size") : 1024 * 1024,
    preVote: flag(kv, "prevote") ?? false,
    checkQuorum: flag(kv, "checkquorum") ?? false,
    readOnlyOption: readOnly === "lease" ? "ReadOnlyLeaseBased" : "ReadOnlySafe",
    disableProposalForwarding: flag(kv, "forwarding") === false,
  };
}

/** `voters=1,2,3 learners=4`: the initial configuration of the nodes being added. */
function initialConfig(kv: Map<string, string>): InitialConfig | undefined {
  const list = (key: string): number[] | undefined => {
    const v = kv.get(key);
    if (v === undefined) return undefined;
    return v === "" ? [] : v.split(",").map((x) => num(x, key));
  };
  const voters = list("voters");
  const learners = list("learners");
  if (voters === undefined && learners === undefined) return undefined;
  return { voters: voters ?? [], learners: learners ?? [] };
}

const CHANGE_TYPES: Readonly<Record<string, ConfChangeType>> = {
  v: "ConfChangeAddNode",
  l: "ConfChangeAddLearnerNode",
  r: "ConfChangeRemoveNode",
  u: "ConfChangeUpdateNode",
};

const TRANSITIONS: Readonly<Record<string, ConfChangeTransition>> = {
  auto: "ConfChangeTransitionAuto",
  implicit: "ConfChangeTransitionJointImplicit",
  explicit: "ConfChangeTransitionJointExplicit",
};

/**
 * `v4 l5 r1 u2` in etcd's notation. With `v1=true` (exactly one change) a ConfChange, otherwise a
 * ConfChangeV2 with `transition=auto|implicit|explicit`; no changes at all asks to leave joint.
 */
function confChangeOf(args: string[], kv: Map<string, string>): AnyConfChange {
  const changes = args.map((a): ConfChangeSingle => {
    const type = CHANGE_TYPES[a[0] ?? ""];
    assert(type !== undefined, () => `conf change: bad change ${a}`);
    return { type, nodeId: num(a.slice(1), "conf change node") };
  });
  const context = new Uint8Array(0);
  if (flag(kv, "v1") === true) {
    const c = changes[0];
    assert(c !== undefined && changes.length === 1, "v1 takes exactly one change");
    return { kind: "ConfChange", type: c.type, nodeId: c.nodeId, context };
  }
  const transition = TRANSITIONS[kv.get("transition") ?? "auto"];
  assert(transition !== undefined, () => `conf change: bad transition ${kv.get("transition")}`);
  return { kind: "ConfChangeV2", transition, changes, context };
}

function filterOf(kv: Map<string, string>): MessageFilter {
  const f: MessageFilter = {};
  if (kv.has("from")) f.from = num(kv.get("from"), "from");
  if (kv.has("to")) f.to = num(kv.get("to"), "to");
  if (kv.has("type")) f.type = kv.get("type");
  return f;
}

/** Runs one command line against `env`; returns its output ("ok" when there is nothing to say). */
export function runCommand(env: InteractionEnv, line: string): string {
  const out = dispatch(env, parseCommand(line));
  return out.length === 0 ? "ok" : out.join("\n");
}

function ids(env: InteractionEnv, args: string[]): number[] {
  return args.length === 0 ? env.ids() : args.map((a) => num(a, "node id"));
}

function dispatch(env: InteractionEnv, c: Parsed): string[] {
  const { args, kv } = c;
  switch (c.name) {
    case "add-nodes":
      env.addNodes(num(args[0], "count"), nodeOptions(kv), initialConfig(kv));
      return [];
    case "campaign":
      env.get(num(args[0], "id")).node.campaign();
      return [];
    case "propose": {
      const r = env.get(num(args[0], "id")).node.propose(bytes(args[1] ?? ""));
      return r === "ok" ? [] : [r];
    }
    case "propose-conf-change": {
      const [id, ...changes] = args;
      const r = env.get(num(id, "id")).node.proposeConfChange(confChangeOf(changes, kv));
      return r === "ok" ? [] : [r];
    }
    case "process-ready":
      return ids(env, args).flatMap((id) => {
        const rd = env.processReady(id);
        return rd === undefined
          ? []
          : [`> ${id} handling Ready`, ...rd.split("\n").map((l) => `  ${l}`)];
      });
    case "send-ready-early": {
      const id = num(args[0], "id");
      const rd = env.sendReadyEarly(id);
      return rd === undefined
        ? []
        : [`> ${id} sending Ready before persisting it`, ...rd.split("\n").map((l) => `  ${l}`)];
    }
    case "persist-ready":
      env.persistHeldReady(num(args[0], "id"));
      return [];
    case "deliver":
      return env.deliver(filterOf(kv), flag(kv, "drop") ?? false);
    case "drop":
      return env.deliver(filterOf(kv), true);
    case "stabilize":
      return env.stabilize(ids(env, args));
    case "tick-election":
    case "tick-heartbeat":
    case "tick":
      for (const id of ids(env, args)) {
        const n = env.get(id);
        const count =
          c.name === "tick-election"
            ? n.options.electionTick
            : c.name === "tick-heartbeat"
              ? n.options.heartbeatTick
              : num(kv.get("n"), "n");
        for (let i = 0; i < count; i++) n.node.tick();
      }
      return [];
    case "election-jitter":
      // From the node's next timer reset on, its election timeout is electionTick + jitter.
      env.get(num(args[0], "id")).random.jitter = num(args[1], "jitter");
      return [];
    case "partition": {
      const groups: number[][] = [[]];
      for (const a of args) {
        if (a === "|") groups.push([]);
        else (groups[groups.length - 1] as number[]).push(num(a, "node id"));
      }
      env.partition = groups;
      return [];
    }
    case "heal":
      env.partition = [];
      return [];
    case "read-index":
      env.get(num(args[0], "id")).node.readIndex(bytes(args[1] ?? ""));
      return [];
    case "transfer-leader":
      env.get(num(args[0], "id")).node.transferLeader(num(args[1], "transferee"));
      return [];
    case "status":
      return ids(env, args).flatMap((id) => env.status(id));
    case "conf-state":
      // The configuration each node has applied (members learn of a change at different times).
      return ids(env, args).map(
        (id) => `${id}: ${describeConfState(env.get(id).node.status().config)}`,
      );
    case "log":
      return env.log(num(args[0], "id"));
    case "compact":
      env.compact(num(args[0], "id"), num(args[1], "index"));
      return [];
    case "restart":
      env.restart(num(args[0], "id"));
      return [];
    case "report-snapshot":
      env.get(num(args[0], "id")).node.reportSnapshot(num(args[1], "peer"), args[2] === "ok");
      return [];
    case "report-unreachable":
      env.get(num(args[0], "id")).node.reportUnreachable(num(args[1], "peer"));
      return [];
    default:
      throw new Error(`unknown command ${c.name}`);
  }
}
