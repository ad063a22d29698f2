#!/usr/bin/env node
// detcdctl: etcdctl's command line for detcd (see src/real/ctl/main.ts).
import { main } from "../real/ctl/main.js";

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
