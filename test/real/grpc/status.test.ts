import { describe, expect, it } from "vitest";
import { Metadata, status as Status } from "@grpc/grpc-js";
import { Errors, ETCD_ERROR_NAMES } from "../../../src/api/errors.js";
import { CodecError } from "../../../src/real/grpc/codec.js";
import {
  clientErrorOf,
  statusOfEtcdError,
  statusOfException,
} from "../../../src/real/grpc/status.js";
import {
  alignSnapshot,
  appendSnapshotTrailer,
  verifySnapshotTrailer,
} from "../../../src/real/grpc/snapshot-trailer.js";

describe("error mapping", () => {
  it("sends etcd's numeric code and exact message", () => {
    expect(statusOfEtcdError(Errors.Compacted)).toMatchObject({
      code: Status.OUT_OF_RANGE,
      details: "etcdserver: mvcc: required revision has been compacted",
    });
    expect(statusOfEtcdError(Errors.NoLeader)).toMatchObject({
      code: Status.UNAVAILABLE,
      details: "etcdserver: no leader",
    });
    expect(statusOfEtcdError(Errors.NoSpace).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(statusOfEtcdError(Errors.InvalidAuthToken).code).toBe(Status.UNAUTHENTICATED);
    expect(statusOfEtcdError(Errors.ProposalDropped)).toMatchObject({
      code: Status.UNKNOWN,
      details: "raft proposal dropped",
    });
  });

  it("round-trips every etcd error through a status back to the same error", () => {
    for (const name of ETCD_ERROR_NAMES) {
      const status = statusOfEtcdError(Errors[name]);
      const back = clientErrorOf({
        code: status.code,
        details: status.details,
        metadata: new Metadata(),
      });
      expect(back.code).toBe(status.code);
      expect(back.etcd).toBe(Errors[name]);
    }
  });

  it("makes a bad request InvalidArgument and anything else Internal", () => {
    expect(statusOfException(new CodecError("truncated message"))).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: "bad request: truncated message",
    });
    expect(statusOfException(new TypeError("x is undefined"))).toMatchObject({
      code: Status.INTERNAL,
      details: "detcd: internal error: x is undefined",
    });
  });

  it("leaves transport errors without an etcd error", () => {
    const e = clientErrorOf({
      code: Status.UNAVAILABLE,
      details: "No connection established",
      metadata: new Metadata(),
    });
    expect([e.code, e.etcd, e.message]).toEqual([
      Status.UNAVAILABLE,
      undefined,
      "No connection established",
    ]);
  });
});

describe("the snapshot trailer", () => {
  it("appends the sha256 and verifies it", () => {
    const data = new TextEncoder().encode("snapshot body");
    const file = appendSnapshotTrailer(data);
    expect(file.length).toBe(data.length + 32);
    // sha256("snapshot body").
    expect(Buffer.from(file.subarray(data.length)).toString("hex")).toBe(
      "52eaf486b0c1ddc342440c91b4c9b8fd05bc5d09b76560663ebb7f1e6a51f37f",
    );
    expect(verifySnapshotTrailer(file)).toEqual({ ok: true, value: data });
  });

  it("refuses a corrupt or short file", () => {
    const file = appendSnapshotTrailer(new Uint8Array([1, 2, 3]));
    file[1] = 9;
    expect(verifySnapshotTrailer(file)).toEqual({
      ok: false,
      error: "snapshot file sha256 mismatch: the file is corrupt",
    });
    expect(verifySnapshotTrailer(new Uint8Array(5)).ok).toBe(false);
  });

  it("pads to whole 512-byte pages only when needed", () => {
    expect(alignSnapshot(new Uint8Array(1)).length).toBe(512);
    const aligned = new Uint8Array(1024);
    expect(alignSnapshot(aligned)).toBe(aligned);
  });
});
