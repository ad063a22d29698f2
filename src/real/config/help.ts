// `detcd --help` and `detcd --version` texts.
import { DETCD_VERSION, ETCD_SERVER_VERSION } from "../version.js";
import { FLAG_SPECS, type FlagGroup } from "./flags.js";

const GROUPS: readonly FlagGroup[] = [
  "Member",
  "Clustering",
  "Security",
  "Operations",
  "Logging",
  "Other",
];

export function helpText(): string {
  const lines = [
    "Usage:",
    "",
    "  detcd [flags]",
    "    Start a detcd server (an etcd-compatible member).",
    "",
    "  detcd --version",
    "    Print the version and exit.",
    "",
    "  detcd -h | --help",
    "    Print this help and exit.",
    "",
    "Every flag can also come from an environment variable: --some-flag is ETCD_SOME_FLAG.",
    "A flag given on the command line wins over its variable.",
  ];
  for (const group of GROUPS) {
    lines.push("", `${group}:`);
    for (const spec of FLAG_SPECS.filter((s) => s.group === group)) {
      lines.push(spec.isBool ? `  --${spec.name}` : `  --${spec.name} '${spec.defaultText}'`);
      lines.push(`    ${spec.usage}`);
      if (spec.alias !== undefined) lines.push(`    Also accepted as --${spec.alias}.`);
    }
  }
  return lines.join("\n");
}

export function versionText(): string {
  return [
    `etcd Version: ${ETCD_SERVER_VERSION}`,
    `detcd Version: ${DETCD_VERSION}`,
    `Node Version: ${process.version}`,
    `OS/Arch: ${process.platform}/${process.arch}`,
  ].join("\n");
}
