#!/usr/bin/env node
// detcdctl: etcdctl's command line for detcd (see src/real/ctl/main.ts).
import { main } from "../real/ctl/main.js";

// grpc-js gives an https://IP endpoint's address as the TLS server name, for which Node prints a
// deprecation warning (DEP0123) into etcdctl's output; the name is not sent for IPs anyway.
process.noDeprecation = true;

// A reader that went away (`detcdctl get --prefix "" | head -1`) ends detcdctl the way SIGPIPE
// ends etcdctl: quietly, with the shell's status for that signal.
const SIGPIPE_STATUS = 128 + 13;
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(SIGPIPE_STATUS);
  throw e;
});

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
