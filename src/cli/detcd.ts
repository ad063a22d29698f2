#!/usr/bin/env node
// detcd: one etcd-compatible member as a process. Takes etcd's flags and ETCD_* variables (see
// src/real/config), so an etcd command line runs with detcd in its place. Exit codes: 0 after a
// clean shutdown (SIGINT/SIGTERM) or --help/--version, 1 on a failure to start or a fatal storage
// error, 2 on a malformed command line (as etcd's flag parsing does).
import { parseServerConfig } from "../real/config/server-config.js";
import { createLogger } from "../real/log.js";
import { startServerProcess } from "../real/server/server-process.js";

const parsed = parseServerConfig(process.argv.slice(2), process.env);
if (!parsed.ok) {
  const e = parsed.error;
  if (e.exitCode === 0) process.stdout.write(`${e.message.trimEnd()}\n`);
  else process.stderr.write(`detcd: ${e.message}\n`);
  process.exit(e.exitCode);
}
const config = parsed.value;
const log = createLogger({ level: config.logLevel });
for (const warning of config.warnings) log.warn(warning);

try {
  await startServerProcess(config, log);
} catch (e) {
  log.fatal({ error: e }, "failed to start the member");
  process.exit(1);
}
