/** Every scenario, in the order of the report. A new scenario is one file here plus one line. */
import { auth } from "./auth";
import { compression } from "./compression";
import { hotHits } from "./hot-hits";
import { manyKeys } from "./many-keys";
import { revocation } from "./revocation";
import { slowOrigin } from "./slow-origin";
import { stampede } from "./stampede";
import { swr } from "./swr";
import { tenants } from "./tenants";
import { twoEdge } from "./two-edge";
import type { Scenario } from "./types";

export const SCENARIOS: readonly Scenario[] = [
  stampede,
  slowOrigin,
  hotHits,
  swr,
  manyKeys,
  compression,
  auth,
  revocation,
  tenants,
  twoEdge,
];
