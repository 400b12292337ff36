/** What bench/lib/miniflare-host.ts is asked to run: Workers in one workerd, each on its own port. */

export interface MiniflareWorker {
  /** The Worker's name in this instance (what `durableObjectsFrom` refers to). */
  name: string;
  /** Its wrangler config: bindings, compatibility date and flags are read from it. */
  config: string;
  /** The bundle to run (`wrangler deploy --dry-run --outdir`'s index.js); its directory holds its other modules. */
  script: string;
  port: number;
  /** Plain-text bindings (vars and secrets) added to the config's. */
  vars: Record<string, string>;
  /** Bind the config's Durable Object classes from this Worker instead of defining them here (shared objects). */
  durableObjectsFrom?: string;
}

export interface MiniflarePlan {
  workers: MiniflareWorker[];
}
