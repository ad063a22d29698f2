import { defineConfig } from "vitest/config";

// `npm run test:compat`: tests that drive Debian's etcdctl (package etcd-client) against detcd.
export default defineConfig({
  test: {
    include: ["test/compat/**/*.compat.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
  },
});
