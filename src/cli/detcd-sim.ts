#!/usr/bin/env node
// detcd-sim: the simulation harness's command line (see DESIGN.md for the contract).
// Exit codes: 0 = every check passed, 1 = a check failed, 2 = bad input.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";

await yargs(hideBin(process.argv))
  .scriptName("detcd-sim")
  .strict()
  .demandCommand(1, "name a command: run, check")
  .recommendCommands()
  .fail((message, error) => {
    console.error(`detcd-sim: ${error?.message ?? message}`);
    process.exit(2);
  })
  .help()
  .parseAsync();
