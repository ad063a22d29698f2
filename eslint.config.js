// ESLint flat config. The determinism rule of DESIGN.md is enforced here: the engine (everything in
// src/ except src/real and src/cli) may not reach clocks, randomness, timers, the process or node:*
// modules, and the engine folders may not use async/await/Promise. test/lint-rules.test.ts shows the
// rules fire.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const nondeterministicGlobals = [
  "Date",
  "performance",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "clearTimeout",
  "clearInterval",
  "clearImmediate",
  "queueMicrotask",
  "process",
  "crypto",
  "WeakRef",
  "FinalizationRegistry",
].map((name) => ({
  name,
  message: `${name} is nondeterministic: the engine reaches time, randomness and I/O only through src/env.`,
}));

const mathRandom = {
  selector: "MemberExpression[object.name='Math'][property.name='random']",
  message: "Math.random is nondeterministic: draw from the seeded PRNG in src/lib/prng.ts.",
};

const noNodeImports = {
  patterns: [
    {
      group: [
        "node:*",
        "fs",
        "net",
        "http",
        "http2",
        "tls",
        "crypto",
        "child_process",
        "os",
        "timers",
      ],
      message: "node modules are I/O: only src/real and src/cli may import them.",
    },
  ],
};

const noAsync = [
  {
    selector:
      "FunctionDeclaration[async=true], FunctionExpression[async=true], ArrowFunctionExpression[async=true]",
    message:
      "The engine is synchronous: no async functions (microtask order is hidden scheduling).",
  },
  { selector: "AwaitExpression", message: "The engine is synchronous: no await." },
  { selector: "Identifier[name='Promise']", message: "The engine is synchronous: no Promise." },
];

export const engineFolders = ["raft", "mvcc", "watch", "lease", "auth", "storage", "server"].map(
  (dir) => `src/${dir}/**/*.ts`,
);

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "reports/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: "readonly", process: "readonly", URL: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/real/**", "src/cli/**"],
    rules: {
      "no-restricted-globals": ["error", ...nondeterministicGlobals],
      "no-restricted-imports": ["error", noNodeImports],
      "no-restricted-syntax": ["error", mathRandom],
    },
  },
  {
    files: engineFolders,
    rules: { "no-restricted-syntax": ["error", mathRandom, ...noAsync] },
  },
  {
    // The simulator owns virtual time; wall time is read only in sim/wall-time.ts.
    files: ["sim/**/*.ts"],
    ignores: ["sim/wall-time.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        ...nondeterministicGlobals.filter((g) => !["process"].includes(g.name)),
      ],
      "no-restricted-syntax": ["error", mathRandom],
    },
  },
);
