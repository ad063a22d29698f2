// A single compare-and-set register (the model of the Jepsen etcd logs): reads, writes and cas.
// The register starts empty (null).
import { hashNumber } from "../hash.js";
import type { Model, StepResult } from "../types.js";

export type RegisterValue = number | null;

export type CasRegisterInput =
  | { readonly kind: "read" }
  | { readonly kind: "write"; readonly value: RegisterValue }
  | { readonly kind: "cas"; readonly from: RegisterValue; readonly to: RegisterValue };

/** A read returns the value; a write returns nothing; a cas says whether it swapped. */
export type CasRegisterOutput =
  | { readonly kind: "read"; readonly value: RegisterValue }
  | { readonly kind: "write" }
  | { readonly kind: "cas"; readonly ok: boolean };

const ILLEGAL = { ok: false } as const;

function stepRegister(
  state: RegisterValue,
  input: CasRegisterInput,
  output: CasRegisterOutput | undefined,
): StepResult<RegisterValue> {
  switch (input.kind) {
    case "read":
      // An unknown read observed nothing the checker can use.
      return output === undefined || (output.kind === "read" && output.value === state)
        ? { ok: true, state }
        : ILLEGAL;
    case "write":
      return output === undefined || output.kind === "write"
        ? { ok: true, state: input.value }
        : ILLEGAL;
    case "cas": {
      const swaps = input.from === state;
      if (output === undefined) return { ok: true, state: swaps ? input.to : state };
      if (output.kind !== "cas" || output.ok !== swaps) return ILLEGAL;
      return { ok: true, state: swaps ? input.to : state };
    }
    default:
      return unreachableInput(input);
  }
}

function unreachableInput(input: never): never {
  throw new Error(`cas-register: unknown input ${JSON.stringify(input)}`);
}

function describeValue(value: RegisterValue): string {
  return value === null ? "nil" : String(value);
}

/** The cas-register model; states are the register's value. */
export const casRegisterModel: Model<RegisterValue, CasRegisterInput, CasRegisterOutput> = {
  init: () => null,
  step: stepRegister,
  hash: (state) => (state === null ? 0x7fffffff : hashNumber(state)),
  // Reads and cas that report failure never change the register.
  readOnly: (input, output) =>
    input.kind === "read" || (input.kind === "cas" && output?.kind === "cas" && !output.ok),
  describeOperation: (input, output) => {
    switch (input.kind) {
      case "read":
        return `read() -> ${output?.kind === "read" ? describeValue(output.value) : "?"}`;
      case "write":
        return `write(${describeValue(input.value)})${output === undefined ? " -> ?" : ""}`;
      case "cas": {
        const verdict = output?.kind === "cas" ? String(output.ok) : "?";
        return `cas(${describeValue(input.from)}, ${describeValue(input.to)}) -> ${verdict}`;
      }
      default:
        return unreachableInput(input);
    }
  },
  describeState: describeValue,
};
