// detcd-sim report DIR: rebuilds a run folder's report (index.html, the PNG charts and, for KV runs,
// linearizability.html) from its run.json. Exit 0 = rebuilt, 2 = DIR is not a run folder.
import { join } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { writeReport } from "../../../sim/report/render.js";
import { readRunDir } from "../../../sim/run-dir.js";
import { BadInputError } from "./scenario-file.js";

interface ReportArgs {
  dir: string;
  png: boolean;
}

async function rebuild(args: ReportArgs): Promise<void> {
  let artifacts;
  try {
    artifacts = readRunDir(args.dir);
  } catch (e) {
    throw new BadInputError((e as Error).message);
  }
  const report = await writeReport(args.dir, artifacts, { png: args.png });
  console.log(`report     ${report.indexHtml}`);
  for (const png of report.pngs) console.log(`chart      ${png}`);
  if (report.pngNote !== undefined) console.log(`note       ${report.pngNote}`);
  if (report.linearizability === "checked")
    console.log(`history    ${join(args.dir, "linearizability.html")}`);
  console.log(`result     ${artifacts.summary.ok ? "PASS" : "FAIL"} (the run's verdict)`);
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report <dir>",
  describe: "rebuild the report of a saved run folder (written by run --out or campaign --out)",
  builder: (y: Argv<object>) =>
    y
      .positional("dir", { type: "string", demandOption: true, describe: "a run folder" })
      .option("png", {
        type: "boolean",
        default: true,
        describe: "draw the PNG charts (--no-png to skip)",
      }) as unknown as Argv<ReportArgs>,
  handler: rebuild,
};
