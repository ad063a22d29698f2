// Benches that give the product's speed measure the build users run (`npx detcd-sim`, `npx detcd`:
// the JavaScript tsc writes to dist/), not the sources under tsx, whose transform adds a wrapper to
// every named function. `npm run bench` builds first; the types still come from the sources.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = join(import.meta.dirname, "..");

/** Imports dist/<path> (a path like "sim/run-scenario.js"), typed as the source module `T`. */
export async function compiled<T>(path: string): Promise<T> {
  const file = join(ROOT, "dist", path);
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  return (await import(pathToFileURL(file).href)) as T;
}
