// etcdctl's exit codes (its cobrautl package) and the error that carries one up to main, which
// prints "Error: <message>" on stderr and exits with the code. Scripts test these codes.

export const ExitCode = {
  Success: 0,
  Error: 1,
  BadConnection: 2,
  InvalidInput: 3,
  BadFeature: 4,
  Interrupted: 5,
  BadArgs: 128,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A failure that ends the command. `usageHint` names the command whose usage helps (bad flags and
 * arguments rejected before any request). `silent` means the message was already printed.
 */
export class CtlError extends Error {
  override name = "CtlError";
  constructor(
    readonly code: ExitCode,
    message: string,
    readonly usageHint?: string,
    readonly silent = false,
  ) {
    super(message);
  }
}

export function badArgs(message: string): CtlError {
  return new CtlError(ExitCode.BadArgs, message);
}

export function badFeature(message: string): CtlError {
  return new CtlError(ExitCode.BadFeature, message);
}

export function invalidInput(message: string): CtlError {
  return new CtlError(ExitCode.InvalidInput, message);
}
