import { describe, expect, it } from "vitest";
import {
  changeConf,
  decodeConfChange,
  describeConfChange,
  encodeConfChange,
  leaveJointConfChange,
} from "../../src/raft/confchange.js";
import { ProgressTracker } from "../../src/raft/tracker.js";
import type {
  AnyConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfState,
} from "../../src/raft/types.js";

function cs(voters: number[], more: Partial<Omit<ConfState, "voters">> = {}): ConfState {
  return {
    voters,
    learners: more.learners ?? [],
    votersOutgoing: more.votersOutgoing ?? [],
    learnersNext: more.learnersNext ?? [],
    autoLeave: more.autoLeave ?? false,
  };
}

/** `v4 l5 r1 u2` as changes. */
function changes(text: string): ConfChangeSingle[] {
  const types = {
    v: "ConfChangeAddNode",
    l: "ConfChangeAddLearnerNode",
    r: "ConfChangeRemoveNode",
    u: "ConfChangeUpdateNode",
  } as const;
  return text
    .split(" ")
    .filter((t) => t !== "")
    .map((t) => ({ type: types[t[0] as keyof typeof types], nodeId: Number(t.slice(1)) }));
}

function v2(text: string, transition: ConfChangeTransition = "ConfChangeTransitionAuto") {
  return {
    kind: "ConfChangeV2",
    transition,
    changes: changes(text),
    context: new Uint8Array(0),
  } as const;
}

describe("changeConf: simple changes", () => {
  it("adds and removes one voter, adds learners, promotes a learner", () => {
    expect(changeConf(cs([1, 2, 3]), v2("v4"))).toEqual({ ok: true, value: cs([1, 2, 3, 4]) });
    expect(changeConf(cs([1, 2, 3]), v2("r2"))).toEqual({ ok: true, value: cs([1, 3]) });
    expect(changeConf(cs([1]), v2("l2"))).toEqual({ ok: true, value: cs([1], { learners: [2] }) });
    // Even learner-only changes go through a joint configuration when there are several.
    expect(changeConf(cs([1]), v2("l2 l3"))).toEqual({
      ok: true,
      value: cs([1], { learners: [2, 3], votersOutgoing: [1], autoLeave: true }),
    });
    expect(changeConf(cs([1], { learners: [2] }), v2("v2"))).toEqual({
      ok: true,
      value: cs([1, 2]),
    });
    // Demoting a voter outside a joint config makes it a learner at once.
    expect(changeConf(cs([1, 2]), v2("l2"))).toEqual({
      ok: true,
      value: cs([1], { learners: [2] }),
    });
  });

  it("refuses more than one voter changed, removing all voters, simple while joint", () => {
    const single = (type: "ConfChangeAddNode", nodeId: number): AnyConfChange => ({
      kind: "ConfChange",
      type,
      nodeId,
      context: new Uint8Array(0),
    });
    expect(changeConf(cs([1, 2, 3]), single("ConfChangeAddNode", 4)).ok).toBe(true);
    expect(
      changeConf(cs([1]), {
        kind: "ConfChange",
        type: "ConfChangeRemoveNode",
        nodeId: 1,
        context: new Uint8Array(0),
      }),
    ).toEqual({ ok: false, error: "removed-all-voters" });
    const joint = cs([1, 2, 4], { votersOutgoing: [1, 2, 3], autoLeave: true });
    expect(changeConf(joint, single("ConfChangeAddNode", 5))).toEqual({
      ok: false,
      error: "simple-change-while-joint",
    });
  });

  it("counts a voter swap as two voter changes", () => {
    // Two changes in one Auto ConfChangeV2 always enter joint; a single simple change of two
    // voters cannot be expressed, so check the joint path takes it.
    const r = changeConf(cs([1, 2, 3]), v2("v4 r3"));
    expect(r).toEqual({
      ok: true,
      value: cs([1, 2, 4], { votersOutgoing: [1, 2, 3], autoLeave: true }),
    });
  });
});

describe("changeConf: joint consensus", () => {
  it("enters joint with auto leave (Auto, several changes) and leaves it", () => {
    const entered = changeConf(cs([1, 2, 3]), v2("v4 v5 r2 r3"));
    const joint = cs([1, 4, 5], { votersOutgoing: [1, 2, 3], autoLeave: true });
    expect(entered).toEqual({ ok: true, value: joint });
    expect(changeConf(joint, leaveJointConfChange())).toEqual({ ok: true, value: cs([1, 4, 5]) });
  });

  it("enters joint on one change when the transition asks for it", () => {
    expect(changeConf(cs([1, 2]), v2("v3", "ConfChangeTransitionJointExplicit"))).toEqual({
      ok: true,
      value: cs([1, 2, 3], { votersOutgoing: [1, 2] }),
    });
    expect(changeConf(cs([1, 2]), v2("v3", "ConfChangeTransitionJointImplicit"))).toEqual({
      ok: true,
      value: cs([1, 2, 3], { votersOutgoing: [1, 2], autoLeave: true }),
    });
  });

  it("demotes an outgoing voter through learnersNext", () => {
    const r = changeConf(cs([1, 2, 3]), v2("l3 v4"));
    const joint = cs([1, 2, 4], { votersOutgoing: [1, 2, 3], learnersNext: [3], autoLeave: true });
    expect(r).toEqual({ ok: true, value: joint });
    expect(changeConf(joint, leaveJointConfChange())).toEqual({
      ok: true,
      value: cs([1, 2, 4], { learners: [3] }),
    });
  });

  it("refuses entering while joint, leaving while not joint, and zero-voter joints", () => {
    const joint = cs([1, 4], { votersOutgoing: [1, 2] });
    expect(changeConf(joint, v2("v5 v6"))).toEqual({ ok: false, error: "already-joint" });
    expect(changeConf(cs([1, 2]), leaveJointConfChange())).toEqual({
      ok: false,
      error: "not-joint",
    });
    expect(changeConf(cs([], { learners: [1] }), v2("v2 v3"))).toEqual({
      ok: false,
      error: "zero-voter-joint",
    });
    expect(changeConf(cs([1, 2]), v2("r1 r2 l3"))).toEqual({
      ok: false,
      error: "removed-all-voters",
    });
  });
});

describe("conf change codec", () => {
  it("round-trips ConfChange and ConfChangeV2 and renders them in etcd's notation", () => {
    const samples: AnyConfChange[] = [
      {
        kind: "ConfChange",
        type: "ConfChangeAddLearnerNode",
        nodeId: 300,
        context: new Uint8Array([7, 8]),
      },
      {
        kind: "ConfChange",
        type: "ConfChangeRemoveNode",
        nodeId: 2 ** 40 + 5,
        context: new Uint8Array(0),
      },
      v2("v4 l5 r1 u2", "ConfChangeTransitionJointExplicit"),
      leaveJointConfChange(),
    ];
    for (const cc of samples) {
      const { type, data } = encodeConfChange(cc);
      expect(decodeConfChange(type, data)).toEqual(cc);
      expect(encodeConfChange(cc).data).toEqual(data);
    }
    expect(describeConfChange(samples[2] as AnyConfChange)).toBe("v4 l5 r1 u2 (explicit)");
    expect(describeConfChange(leaveJointConfChange())).toBe("(leave joint)");
    expect(decodeConfChange("EntryConfChangeV2", new Uint8Array(0))).toEqual(
      leaveJointConfChange(),
    );
  });

  it("rejects bytes no encoder produced", () => {
    expect(decodeConfChange("EntryNormal", new Uint8Array([0, 1, 0]))).toBeUndefined();
    expect(decodeConfChange("EntryConfChange", new Uint8Array([9, 1, 0]))).toBeUndefined();
    expect(decodeConfChange("EntryConfChange", new Uint8Array([0, 1, 0, 0]))).toBeUndefined();
    expect(decodeConfChange("EntryConfChangeV2", new Uint8Array([0, 2, 0, 1]))).toBeUndefined();
    expect(decodeConfChange("EntryConfChange", new Uint8Array([0, 1, 5, 1]))).toBeUndefined();
  });
});

describe("quorum with learners", () => {
  it("never counts a learner toward commit, votes or CheckQuorum", () => {
    const trk = new ProgressTracker(cs([1, 2, 3], { learners: [4, 5] }), 16, 11);
    const match = { 1: 10, 2: 0, 3: 0, 4: 10, 5: 10 } as Record<number, number>;
    for (const [id, pr] of trk.progress) pr.match = match[id] as number;
    // Three of five members hold index 10, but only one of the three voters does.
    expect(trk.committed()).toBe(0);
    (trk.progress.get(2) as { match: number }).match = 10;
    expect(trk.committed()).toBe(10);

    trk.recordVote(1, true);
    trk.recordVote(4, true);
    trk.recordVote(5, true);
    expect(trk.tallyVotes()).toBe("VotePending");

    for (const pr of trk.progress.values()) pr.recentActive = false;
    for (const id of [1, 4, 5])
      (trk.progress.get(id) as { recentActive: boolean }).recentActive = true;
    expect(trk.quorumActive()).toBe(false);
    expect(trk.progress.get(4)?.isLearner).toBe(true);
    expect(trk.ids).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps the progress of staying members and adds new ones as recently active", () => {
    const trk = new ProgressTracker(cs([1, 2, 3], { learners: [4] }), 16, 11);
    (trk.progress.get(4) as { match: number }).match = 7;
    trk.applyConfig(cs([1, 2, 4], { learners: [5] }), 21);
    expect(trk.ids).toEqual([1, 2, 4, 5]);
    expect(trk.progress.get(4)).toMatchObject({ match: 7, isLearner: false });
    expect(trk.progress.get(5)).toMatchObject({
      match: 0,
      next: 21,
      isLearner: true,
      recentActive: true,
    });
    expect(trk.progress.has(3)).toBe(false);
  });

  it("keeps an outgoing voter demoted to learnersNext voting until the joint config is left", () => {
    const trk = new ProgressTracker(
      cs([1, 2], { votersOutgoing: [1, 2, 3], learnersNext: [3] }),
      16,
      1,
    );
    expect(trk.progress.get(3)?.isLearner).toBe(false);
    expect(trk.isVoter(3)).toBe(true);
  });
});
