// Raft throughput in one process: a three-member cluster on MemoryStorage replicating small
// proposals, every Ready processed and every message delivered synchronously. Reports messages
// stepped and entries committed per wall second.
import { Prng } from "../src/lib/prng.js";
import { MemoryStorage, RawNode, type Message } from "../src/raft/index.js";
import { emit } from "./emit.js";

export default function bench(): void {
  const ids = [1, 2, 3];
  const confState = {
    voters: ids,
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  };
  const root = Prng.fromSeed(1);
  const nodes = new Map<number, { node: RawNode; storage: MemoryStorage }>();
  for (const id of ids) {
    const storage = new MemoryStorage({ confState });
    const node = new RawNode({
      id,
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      preVote: true,
      checkQuorum: true,
      random: root.stream(`member-${id}`),
    });
    nodes.set(id, { node, storage });
  }
  const queue: Message[] = [];
  let stepped = 0;
  const pump = (): void => {
    for (let busy = true; busy;) {
      busy = false;
      for (const id of ids) {
        const n = nodes.get(id);
        if (n === undefined || !n.node.hasReady()) continue;
        busy = true;
        const rd = n.node.ready();
        n.storage.append(rd.entries);
        if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
        for (const m of rd.messages) queue.push(m);
        n.node.advance(rd);
      }
      while (queue.length > 0) {
        busy = true;
        const m = queue.shift() as Message;
        nodes.get(m.to)?.node.step(m);
        stepped++;
      }
    }
  };
  nodes.get(1)?.node.campaign();
  pump();
  const leader = nodes.get(1)?.node as RawNode;
  const payload = new Uint8Array(64);
  const proposals = 20_000;
  const start = performance.now();
  for (let i = 0; i < proposals; i++) {
    leader.propose(payload);
    if (i % 8 === 7) pump();
    if (i % 100 === 99) for (const id of ids) nodes.get(id)?.node.tick();
  }
  pump();
  const wallMs = performance.now() - start;
  const committed = leader.status().hardState.commit;
  emit("raft", {
    proposals,
    committed,
    messagesStepped: stepped,
    wallMs: Math.round(wallMs),
    messagesPerSec: Math.round((stepped / wallMs) * 1000),
    entriesPerSec: Math.round((committed / wallMs) * 1000),
  });
}
