import { describe, expect, it } from "vitest";
import { buildDescriptor } from "../../../scripts/gen-proto.js";
import { DESCRIPTOR } from "../../../src/real/grpc/descriptor.generated.js";
import { methodsOf } from "../../../src/real/grpc/services.js";

describe("the generated descriptor", () => {
  it("matches the .proto files (run `npm run gen:proto` after editing them)", () => {
    expect(DESCRIPTOR).toEqual(JSON.parse(JSON.stringify(buildDescriptor())));
  });

  it("has etcd's gRPC paths and streaming shapes", () => {
    const kv = methodsOf("etcdserverpb.KV").map((m) => m.path);
    expect(kv).toEqual([
      "/etcdserverpb.KV/Range",
      "/etcdserverpb.KV/RangeStream",
      "/etcdserverpb.KV/Put",
      "/etcdserverpb.KV/DeleteRange",
      "/etcdserverpb.KV/Txn",
      "/etcdserverpb.KV/Compact",
    ]);
    const streaming = (service: Parameters<typeof methodsOf>[0]) =>
      methodsOf(service)
        .filter((m) => m.requestStream || m.responseStream)
        .map(
          (m) =>
            `${m.method}:${m.requestStream ? "stream" : "unary"}->${m.responseStream ? "stream" : "unary"}`,
        );
    expect(streaming("etcdserverpb.Watch")).toEqual(["Watch:stream->stream"]);
    expect(streaming("etcdserverpb.Lease")).toEqual(["LeaseKeepAlive:stream->stream"]);
    expect(streaming("etcdserverpb.Maintenance")).toEqual(["Snapshot:unary->stream"]);
    expect(methodsOf("etcdserverpb.Maintenance").map((m) => m.method)).toEqual([
      "Alarm",
      "Status",
      "Defragment",
      "Hash",
      "HashKV",
      "Snapshot",
      "MoveLeader",
      "Downgrade",
    ]);
    expect(methodsOf("etcdserverpb.Auth")).toHaveLength(17);
    expect(methodsOf("etcdserverpb.Cluster").find((m) => m.method === "MemberAdd")).toMatchObject({
      requestType: "etcdserverpb.MemberAddRequest",
      responseType: "etcdserverpb.MemberAddResponse",
    });
  });
});
