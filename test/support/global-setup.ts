import type { TestProject } from "vitest/node";
import { startOriginServer } from "./origin-server";

/** Starts the scriptable origin once for the workerd project; tests find it via `inject`. */
export default async function ({ provide }: TestProject) {
  const origin = await startOriginServer();
  provide("originPort", origin.port);
  // Node 22 can spin at 100 % CPU forever after a run has ended and every test passed: `uv_run`
  // inside Environment::CleanupHandles ← FreeEnvironment (seen once in five clean-clone CI runs,
  // perf-sampled; cf. nodejs/node#47748). `beforeExit` is emitted once vitest has closed
  // everything and set process.exitCode (1 on any failure), before that cleanup: exiting there
  // skips it and keeps vitest's exit code.
  process.once("beforeExit", () => process.exit());
  return () => origin.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    originPort: number;
  }
}
