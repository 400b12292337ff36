/** Runs in every workerd test file: nothing a test started in `waitUntil` outlives it. */
import { afterEach } from "vitest";
import { settleAll } from "./brim";

afterEach(settleAll);
