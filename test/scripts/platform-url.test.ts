/**
 * `--url` for the config CLI and the deploy script: the platform token goes to exactly
 * `<origin>/__brim/platform/...`, never to a path a tenant route would proxy, and never in
 * clear text off this machine.
 */
import { describe, expect, it } from "vitest";
import { platformBaseUrl } from "../../scripts/lib/platform";

describe("platformBaseUrl", () => {
  it.each([
    ["http://127.0.0.1:8787", "http://127.0.0.1:8787"],
    ["http://localhost:8787/", "http://localhost:8787"],
    ["http://acme.localhost:8787", "http://acme.localhost:8787"],
    ["https://brim.example.com", "https://brim.example.com"],
    ["https://BRIM.example.com:8443/", "https://brim.example.com:8443"],
  ])("accepts %s as %s", (text, base) => {
    expect(platformBaseUrl(text)).toBe(base);
  });

  it.each([
    ["https://brim.example.com/x", /no path, query or fragment/],
    ["https://brim.example.com?x", /no path, query or fragment/],
    ["https://brim.example.com/#x", /no path, query or fragment/],
    ["https://user:pw@brim.example.com", /no credentials/],
    ["http://brim.example.com", /plain http only to this machine/],
    ["ftp://brim.example.com", /http\(s\) URL/],
    ["brim.example.com", /expected https:\/\/HOST/],
  ])("refuses %s", (text, problem) => {
    const result = platformBaseUrl(text);
    expect(typeof result).toBe("object");
    expect((result as { problem: string }).problem).toMatch(problem);
  });
});
