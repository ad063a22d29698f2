#!/usr/bin/env node
// detcd-sim: the simulation harness's command line (see DESIGN.md for the contract).
// Exit codes: 0 = every check passed, 1 = a check failed, 2 = bad input.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { campaignCommand } from "./sim/campaign-command.js";
import { checkCommand } from "./sim/check-command.js";
import { reportCommand } from "./sim/report-command.js";
import { replayCommand, runCommand } from "./sim/run-command.js";
import { shrinkCommand } from "./sim/shrink-command.js";
import { BadInputError } from "./sim/scenario-file.js";

try {
  await yargs(hideBin(process.argv))
    .scriptName("detcd-sim")
    .command(runCommand)
    .command(replayCommand)
    .command(campaignCommand)
    .command(checkCommand)
    .command(shrinkCommand)
    .command(reportCommand)
    .strict()
    .demandCommand(1, "name a command: run, replay, campaign, shrink, check, report")
    .recommendCommands()
    .fail((message, error) => {
      throw error ?? new BadInputError(message);
    })
    .help()
    .parseAsync();
} catch (e) {
  if (!(e instanceof BadInputError) && !(e instanceof Error && e.name === "YError")) throw e;
  console.error(`detcd-sim: ${e.message}`);
  process.exitCode = 2;
}
