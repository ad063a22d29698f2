import { describe, expect, it } from "vitest";
import { Errors, ETCD_ERROR_NAMES, errorFromMessage, isEtcdError } from "../../src/api/errors.js";

describe("etcd errors", () => {
  it("carry etcd's codes and exact messages", () => {
    expect(Errors.Compacted).toMatchObject({
      code: "OutOfRange",
      message: "etcdserver: mvcc: required revision has been compacted",
    });
    expect(Errors.FutureRev.message).toBe(
      "etcdserver: mvcc: required revision is a future revision",
    );
    expect(Errors.LeaseNotFound).toMatchObject({
      code: "NotFound",
      message: "etcdserver: requested lease not found",
    });
    expect(Errors.DuplicateKey).toMatchObject({
      code: "InvalidArgument",
      message: "etcdserver: duplicate key given in txn request",
    });
    expect(Errors.TooManyOps.message).toBe("etcdserver: too many operations in txn request");
    expect(Errors.NoLeader).toMatchObject({
      code: "Unavailable",
      message: "etcdserver: no leader",
    });
    expect(Errors.Timeout).toMatchObject({
      code: "Unavailable",
      message: "etcdserver: request timed out",
    });
    expect(Errors.LeaderChanged.message).toBe("etcdserver: leader changed");
    expect(Errors.RequestTooLarge).toMatchObject({
      code: "InvalidArgument",
      message: "etcdserver: request is too large",
    });
    expect(Errors.KeyNotFound.message).toBe("etcdserver: key not found");
    expect(Errors.EmptyKey.message).toBe("etcdserver: key is not provided");
    expect(Errors.ValueProvided.message).toBe("etcdserver: value is provided");
    expect(Errors.LeaseProvided.message).toBe("etcdserver: lease is provided");
    expect(Errors.NoSpace).toMatchObject({
      code: "ResourceExhausted",
      message: "etcdserver: mvcc: database space exceeded",
    });
    expect(Errors.Corrupt).toMatchObject({
      code: "DataLoss",
      message: "etcdserver: corrupt cluster",
    });
    expect(Errors.PermissionDenied).toMatchObject({
      code: "PermissionDenied",
      message: "etcdserver: permission denied",
    });
    expect(Errors.InvalidAuthToken.code).toBe("Unauthenticated");
    expect(Errors.AuthOldRevision.message).toBe("etcdserver: revision of auth store is old");
    expect(Errors.LeaseTTLTooLarge).toMatchObject({
      code: "OutOfRange",
      message: "etcdserver: too large lease TTL",
    });
    expect(Errors.DeadlineExceeded.code).toBe("DeadlineExceeded");
  });

  it("are unique by message and map back from it", () => {
    const messages = ETCD_ERROR_NAMES.map((n) => Errors[n].message);
    expect(new Set(messages).size).toBe(messages.length);
    for (const name of ETCD_ERROR_NAMES) {
      expect(errorFromMessage(Errors[name].message)).toBe(Errors[name]);
      expect(isEtcdError(Errors[name])).toBe(true);
      // raft's and the auth package's own errors reach clients unprefixed, as in etcd.
      const prefixed =
        name === "ProposalDropped" ||
        name === "AuthVerifyOnly" ||
        Errors[name].message.startsWith("etcdserver: ");
      expect(prefixed).toBe(true);
    }
    expect(errorFromMessage("something else")).toBeUndefined();
  });
});
