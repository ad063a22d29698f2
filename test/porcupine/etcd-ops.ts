// Building etcd-model histories in tests: operations on a shared counter clock and KeyValues.
import type { EtcdInput, EtcdOutput, KeyValue, Operation } from "../../src/porcupine/index.js";

let clock = 0;

/**
 * One operation; sequential by default (each call after the previous return) unless times are
 * given; no output means an unknown outcome.
 */
export function op(
  input: EtcdInput,
  output: EtcdOutput | undefined,
  clientId = 0,
  times?: [number, number],
): Operation<EtcdInput, EtcdOutput> {
  const [call, ret] = times ?? [(clock += 2), (clock += 2)];
  return output === undefined
    ? { clientId, input, call }
    : { clientId, input, call, output, return: ret };
}

export const kv = (
  key: string,
  value: string,
  create: number,
  mod: number,
  version: number,
  lease = 0,
): KeyValue => ({
  key,
  value,
  create_revision: create,
  mod_revision: mod,
  version,
  lease,
});
