// gRPC codec speed: encode and decode per second of the messages on the hot path — Put and Range
// requests (decoded by the server, encoded by clients) and their responses (the other way round),
// with Kubernetes-like keys and 128-byte values; a 100-key Range response for list calls; and,
// for scale, protobufjs's reflection codec on the same Put request. Run: npx tsx bench/run.ts grpc
import protobuf from "protobufjs";
import { emit } from "./emit.js";
import { utf8 } from "../src/lib/bytes.js";
import { codecFor, type MessageCodec } from "../src/real/grpc/codec.js";
import { DESCRIPTOR } from "../src/real/grpc/descriptor.generated.js";
import type { KeyValue } from "../src/api/kv.js";
import type { PutRequest, RangeRequest, RangeResponse } from "../src/api/rpc.js";

const header = {
  cluster_id: 0x1234_5678_9abc_def0n,
  member_id: 3n,
  revision: 123_456,
  raft_term: 4,
};

function kv(i: number): KeyValue {
  return {
    key: utf8(`/registry/pods/default/pod-${i.toString().padStart(7, "0")}`),
    create_revision: 100_000 + i,
    mod_revision: 120_000 + i,
    version: 3,
    value: new Uint8Array(128).fill(0x61),
    lease: 0n,
  };
}

/** Operations per second of `body`, run for about `ms` milliseconds after a warm-up. */
function perSecond(body: () => void, ms = 400): number {
  for (let i = 0; i < 2_000; i++) body();
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 1_000; i++) body();
    ops += 1_000;
    elapsed = performance.now() - start;
  }
  return Math.round(ops / (elapsed / 1000));
}

function measure<T>(message: string, codec: MessageCodec<T>, value: T): void {
  const bytes = codec.encode(value);
  const decoded = codec.decode(bytes);
  if (codec.encode(decoded).length !== bytes.length)
    throw new Error(`bench: ${message} round trip`);
  emit("grpc-codec", {
    message,
    bytes: bytes.length,
    encodePerS: perSecond(() => codec.encode(value)),
    decodePerS: perSecond(() => codec.decode(bytes)),
  });
}

function referencePut(put: PutRequest): void {
  const root = protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
  const type = root.lookupType("etcdserverpb.PutRequest");
  const object = { key: put.key, value: put.value, lease: 7 };
  const bytes = type.encode(type.fromObject(object)).finish();
  emit("grpc-codec", {
    message: "PutRequest (protobufjs reflection, for scale)",
    bytes: bytes.length,
    encodePerS: perSecond(() => type.encode(type.fromObject(object)).finish()),
    decodePerS: perSecond(() => type.toObject(type.decode(bytes), { longs: String })),
  });
}

export default function run(): void {
  const put: PutRequest = { key: kv(1).key, value: kv(1).value, lease: 7n };
  const range: RangeRequest = {
    key: utf8("/registry/pods/default/"),
    range_end: utf8("/registry/pods/default0"),
    limit: 500,
    revision: 123_000,
  };
  const single: RangeResponse = { header, kvs: [kv(1)], more: false, count: 1 };
  const list: RangeResponse = {
    header,
    kvs: Array.from({ length: 100 }, (_v, i) => kv(i)),
    more: true,
    count: 5_000,
  };
  measure("PutRequest", codecFor("etcdserverpb.PutRequest"), put);
  measure("PutResponse", codecFor("etcdserverpb.PutResponse"), { header });
  measure("RangeRequest", codecFor("etcdserverpb.RangeRequest"), range);
  measure("RangeResponse (1 kv)", codecFor("etcdserverpb.RangeResponse"), single);
  measure("RangeResponse (100 kvs)", codecFor("etcdserverpb.RangeResponse"), list);
  referencePut(put);
}
