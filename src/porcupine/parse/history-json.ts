// Parser for the harness's own histories: JSON Lines, one object per line, either
//   {"clientId": 3, "call": 1200, "return": 1450, "input": {...}, "output": {...}}
// an operation of the etcd model (etcd-types.ts; "return" and "output" absent or null = unknown
// outcome), or
//   {"annotation": {"start": 1000, "end": 5000, "label": "partition", "clientId": 2}}
// a span to shade in the visualization. Times are in any one unit shared by all lines.
// Each line is validated fully, so a bad history fails here with its line number and not later
// inside the model.
import type {
  Compare,
  EtcdInput,
  EtcdOutput,
  KeyValue,
  RequestOp,
  ResponseOp,
} from "../models/etcd-types.js";
import type { Annotation, Operation } from "../types.js";
import { numberedLines, parseFailure, type ParseResult } from "./parse-error.js";

export type EtcdOperation = Operation<EtcdInput, EtcdOutput>;

export interface EtcdHistory {
  readonly operations: EtcdOperation[];
  readonly annotations: Annotation[];
}

/** Thrown inside this file only, to unwind a validation to the line loop. */
class Invalid extends Error {}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Invalid(`${what} must be an object`);
  return value as Json;
}
function string(o: Json, field: string, what: string): string {
  const v = o[field];
  if (typeof v !== "string") throw new Invalid(`${what}.${field} must be a string`);
  return v;
}
function number(o: Json, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new Invalid(`${what}.${field} must be a number`);
  return v;
}
function optional<T>(
  o: Json,
  field: string,
  read: (o: Json, f: string, w: string) => T,
  what: string,
): T | undefined {
  return o[field] === undefined || o[field] === null ? undefined : read(o, field, what);
}
function boolean(o: Json, field: string, what: string): boolean {
  const v = o[field];
  if (typeof v !== "boolean") throw new Invalid(`${what}.${field} must be a boolean`);
  return v;
}
function array(o: Json, field: string, what: string): unknown[] {
  const v = o[field];
  if (!Array.isArray(v)) throw new Invalid(`${what}.${field} must be an array`);
  return v;
}
function oneOf<T extends string>(o: Json, field: string, allowed: readonly T[], what: string): T {
  const v = string(o, field, what);
  if (!(allowed as readonly string[]).includes(v))
    throw new Invalid(`${what}.${field} must be one of ${allowed.join(", ")}`);
  return v as T;
}

function keyValue(value: unknown, what: string): KeyValue {
  const o = object(value, what);
  return {
    key: string(o, "key", what),
    value: string(o, "value", what),
    create_revision: number(o, "create_revision", what),
    mod_revision: number(o, "mod_revision", what),
    version: number(o, "version", what),
    lease: optional(o, "lease", number, what) ?? 0,
  };
}

function compare(value: unknown, what: string): Compare {
  const o = object(value, what);
  oneOf(o, "result", ["equal", "greater", "less", "not_equal"], what);
  oneOf(o, "target", ["version", "create", "mod", "value", "lease"], what);
  string(o, "key", what);
  return o as unknown as Compare;
}

function requestOp(value: unknown, what: string): RequestOp {
  const o = object(value, what);
  const type = oneOf(o, "type", ["range", "put", "delete-range"], what);
  string(o, "key", what);
  if (type === "put") string(o, "value", what);
  return o as unknown as RequestOp;
}

function input(value: unknown): EtcdInput {
  const what = "input";
  const o = object(value, what);
  const type = oneOf(
    o,
    "type",
    ["range", "put", "delete-range", "txn", "lease-grant", "lease-revoke", "compaction", "auth"],
    what,
  );
  if (type !== "auth" && o.as !== undefined) oneOf(o, "as", ["root", "writer", "anonymous"], what);
  switch (type) {
    case "range":
    case "put":
    case "delete-range":
      return requestOp(o, what);
    case "txn":
      array(o, "compare", what).forEach((c, i) => compare(c, `${what}.compare[${i}]`));
      array(o, "success", what).forEach((r, i) => requestOp(r, `${what}.success[${i}]`));
      array(o, "failure", what).forEach((r, i) => requestOp(r, `${what}.failure[${i}]`));
      return o as unknown as EtcdInput;
    case "lease-grant":
      number(o, "id", what);
      number(o, "ttl", what);
      return o as unknown as EtcdInput;
    case "lease-revoke":
      number(o, "id", what);
      return o as unknown as EtcdInput;
    case "compaction":
      number(o, "revision", what);
      return o as unknown as EtcdInput;
    case "auth":
      oneOf(o, "change", ["enable", "disable", "grant-write", "revoke-write"], what);
      return o as unknown as EtcdInput;
  }
}

function responseOp(value: unknown, what: string): ResponseOp {
  const o = object(value, what);
  const type = oneOf(o, "type", ["range", "put", "delete-range"], what);
  if (o.header !== undefined)
    number(object(o.header, `${what}.header`), "revision", `${what}.header`);
  switch (type) {
    case "range":
      return {
        ...(o as unknown as ResponseOp),
        kvs: array(o, "kvs", what).map((kv, i) => keyValue(kv, `${what}.kvs[${i}]`)),
        count: number(o, "count", what),
      } as ResponseOp;
    case "put":
      return {
        ...(o as unknown as ResponseOp),
        ...(o.prev_kv ? { prev_kv: keyValue(o.prev_kv, `${what}.prev_kv`) } : {}),
      } as ResponseOp;
    case "delete-range":
      number(o, "deleted", what);
      return {
        ...(o as unknown as ResponseOp),
        ...(o.prev_kvs
          ? {
              prev_kvs: array(o, "prev_kvs", what).map((kv, i) =>
                keyValue(kv, `${what}.prev_kvs[${i}]`),
              ),
            }
          : {}),
      } as ResponseOp;
  }
}

function output(value: unknown): EtcdOutput {
  const what = "output";
  const o = object(value, what);
  const type = oneOf(
    o,
    "type",
    [
      "range",
      "put",
      "delete-range",
      "txn",
      "lease-grant",
      "lease-revoke",
      "compaction",
      "auth",
      "error",
      "persisted",
    ],
    what,
  );
  switch (type) {
    case "error":
      oneOf(
        o,
        "error",
        [
          "compacted",
          "future-revision",
          "lease-not-found",
          "lease-exists",
          "duplicate-key",
          "permission-denied",
          "user-empty",
          "auth-old-revision",
        ],
        what,
      );
      return o as unknown as EtcdOutput;
    case "persisted":
      optional(o, "revision", number, what);
      return o as unknown as EtcdOutput;
    case "range":
    case "put":
    case "delete-range":
      number(object(o.header, `${what}.header`), "revision", `${what}.header`);
      return responseOp(o, what);
    case "txn":
      number(object(o.header, `${what}.header`), "revision", `${what}.header`);
      boolean(o, "succeeded", what);
      return {
        ...(o as unknown as EtcdOutput),
        responses: array(o, "responses", what).map((r, i) =>
          responseOp(r, `${what}.responses[${i}]`),
        ),
      } as EtcdOutput;
    case "lease-grant":
      number(o, "id", what);
      number(object(o.header, `${what}.header`), "revision", `${what}.header`);
      return o as unknown as EtcdOutput;
    case "lease-revoke":
    case "compaction":
    case "auth":
      number(object(o.header, `${what}.header`), "revision", `${what}.header`);
      return o as unknown as EtcdOutput;
  }
}

function annotation(value: unknown): Annotation {
  const what = "annotation";
  const o = object(value, what);
  const start = number(o, "start", what);
  const end = number(o, "end", what);
  if (end < start) throw new Invalid("annotation.end is before annotation.start");
  const clientId = optional(o, "clientId", number, what);
  const color = optional(o, "color", string, what);
  return {
    start,
    end,
    label: string(o, "label", what),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(color !== undefined ? { color } : {}),
  };
}

function operation(o: Json): EtcdOperation {
  const clientId = number(o, "clientId", "operation");
  const call = number(o, "call", "operation");
  const ret = optional(o, "return", number, "operation");
  const op = { clientId, call, input: input(o.input) };
  if (ret === undefined) return op;
  if (ret < call) throw new Invalid(`operation returns at ${ret}, before its call at ${call}`);
  if (o.output === undefined || o.output === null)
    throw new Invalid("operation has a return but no output");
  return { ...op, output: output(o.output), return: ret };
}

/** Parses a JSON Lines etcd history (see the file comment). */
export function parseHistoryJson(text: string): ParseResult<EtcdHistory> {
  const operations: EtcdOperation[] = [];
  const annotations: Annotation[] = [];
  for (const { line, text: raw } of numberedLines(text)) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      return parseFailure(line, `not JSON: ${(e as Error).message}`);
    }
    try {
      const o = object(value, "line");
      if (o.annotation !== undefined) annotations.push(annotation(o.annotation));
      else operations.push(operation(o));
    } catch (e) {
      if (e instanceof Invalid) return parseFailure(line, e.message);
      throw e;
    }
  }
  return { ok: true, value: { operations, annotations } };
}
