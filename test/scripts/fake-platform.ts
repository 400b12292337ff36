/**
 * A stand-in for a Worker's platform API (`/__brim/platform/*`), for script tests that must
 * not start wrangler: a deployed Worker on Cloudflare (npm run deploy), or answers the real
 * Worker only gives in rare states (a push still publishing, the token secret unset). The
 * real API is tested end to end in test/e2e/config.test.ts. Answers follow the contract in
 * docs/control-plane.md; `answer` decides each one.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

export interface Answer {
  status: number;
  json: unknown;
}

export interface FakePlatform {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** Starts the stand-in on 127.0.0.1; `answer` gets each request (in order) and says what to send. */
export async function fakePlatform(answer: (request: Recorded, index: number) => Answer): Promise<FakePlatform> {
  const requests: Recorded[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const recorded = { method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, body };
    requests.push(recorded);
    const { status, json } = answer(recorded, requests.length - 1);
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(json));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A write's 200 answer. */
export function written(version: number, fields: Record<string, unknown> = {}): Answer {
  const json = {
    ok: true,
    version,
    previousVersion: version - 1,
    changed: [],
    removed: [],
    published: true,
    publishedVersion: version,
    missingSecrets: [],
  };
  return { status: 200, json: { ...json, ...fields } };
}

/** `GET /config`'s 200 answer. */
export function configState(version: number, publishedVersion: number): Answer {
  return {
    status: 200,
    json: { ok: true, version, publishedVersion, updatedAt: null, document: { tenants: [] }, tenants: [], missingSecrets: [] },
  };
}
