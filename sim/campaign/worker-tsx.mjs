// Worker entry when the campaign runs from TypeScript sources (tsx, vitest). On Node 20 a worker
// thread does not inherit the parent's tsx loader (neither from the parent's hooks nor from
// `--import tsx` in its execArgv), so it registers tsx itself before importing worker.ts. Built
// code (dist/) loads worker.js directly and never uses this file.
import { register } from "tsx/esm/api";

register();
const { runJob } = await import("./worker.ts");

export default runJob;
