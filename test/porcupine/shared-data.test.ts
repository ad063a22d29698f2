// Every history shipped in ../shared/data/porcupine gets the verdict listed in expected.tsv.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  casRegisterModel,
  check,
  kvModel,
  makeKvStoreModel,
  parseJepsenLog,
  parsePorcupineKv,
} from "../../src/porcupine/index.js";

const DATA = "/work/shared/data/porcupine";

const expected = readFileSync(join(DATA, "expected.tsv"), "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((line) => {
    const [file, linearizable] = line.split("\t");
    return { file: file ?? "", verdict: linearizable === "true" ? "ok" : "illegal" };
  });

function checkFile(file: string) {
  const text = readFileSync(join(DATA, file), "utf8");
  if (file.startsWith("jepsen/")) {
    const parsed = parseJepsenLog(text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
    return check(casRegisterModel, parsed.value);
  }
  const parsed = parsePorcupineKv(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return check(kvModel, parsed.value);
}

describe("shared histories", () => {
  it("lists 54 histories", () => {
    expect(expected.length).toBe(54);
  });
  it.each(expected)("$file is $verdict", ({ file, verdict }) => {
    const report = checkFile(file);
    expect(report.result).toBe(verdict);
    if (verdict === "illegal") {
      const bad = report.partitions.find((p) => p.result === "illegal");
      expect(bad?.stuck).toBeDefined();
    }
  });
  it.each(["kv/c01-ok.txt", "kv/c01-bad.txt"])(
    "%s gives the same verdict unpartitioned",
    (file) => {
      const parsed = parsePorcupineKv(readFileSync(join(DATA, file), "utf8"));
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
      const report = check(makeKvStoreModel(), parsed.value);
      expect(report.partitions).toHaveLength(1);
      expect(report.result).toBe(file.includes("ok") ? "ok" : "illegal");
    },
  );
  it("is deterministic: same verdict and same longest linearization", () => {
    const a = checkFile("jepsen/etcd_000.log");
    const b = checkFile("jepsen/etcd_000.log");
    expect(a.partitions[0]?.linearization).toEqual(b.partitions[0]?.linearization);
    expect(a.partitions[0]?.stuck).toBe(b.partitions[0]?.stuck);
  });
});
