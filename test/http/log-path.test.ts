/** The request log's path (src/http/log-path.ts): credential-like query values never reach a log line. Pure. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LOG_PATH_MAX_CHARS } from "../../src/constants";
import { CREDENTIAL_PARAM_NAMES, isCredentialName, loggedPath, loggedUrl } from "../../src/http/log-path";

describe("loggedPath", () => {
  it.each([
    ["/a/b", "/a/b"],
    ["/a?x=1&y=2", "/a?x=1&y=2"],
    ["/a?", "/a?"],
    ["/a?token=s3cr3t&x=1", "/a?token=REDACTED&x=1"],
    ["http://h.test/a?access_token=s3cr3t", "/a?access_token=REDACTED"],
    ["https://h.test:8443/a/b?x=1#frag", "/a/b?x=1"],
    // Names are compared as an origin decodes them: escapes, "+", case.
    ["/a?%74oken=s3cr3t", "/a?%74oken=REDACTED"],
    ["/a?%2574oken=s3cr3t", "/a?%2574oken=REDACTED"],
    ["/a?TOKEN=s3cr3t", "/a?TOKEN=REDACTED"],
    ["/a?Access%5FToken=s3cr3t", "/a?Access%5FToken=REDACTED"],
    ["/a?X-Amz-Signature=abc&X-Amz-Date=20260101", "/a?X-Amz-Signature=REDACTED&X-Amz-Date=20260101"],
    ["/a?api+key=s3cr3t", "/a?api+key=s3cr3t"],
    ["/a?api%5Fkey=s3cr3t", "/a?api%5Fkey=REDACTED"],
    // Substrings: csrf_token, client_secret, db_password, sharedAccessSignature.
    [
      "/a?csrf_token=1&client_secret=2&db_password=3&sharedAccessSignature=4",
      "/a?csrf_token=REDACTED&client_secret=REDACTED&db_password=REDACTED&sharedAccessSignature=REDACTED",
    ],
    // Exact names only for short ones: `code` and `key` are credentials, `zipcode` and `monkey` are not.
    ["/a?code=abc&zipcode=12345&key=k&monkey=m", "/a?code=REDACTED&zipcode=12345&key=REDACTED&monkey=m"],
    // Repeated parameters: every copy.
    ["/a?token=one&x=1&token=two", "/a?token=REDACTED&x=1&token=REDACTED"],
    // No "=": no value to hide; an empty value is still marked.
    ["/a?token&x=1", "/a?token&x=1"],
    ["/a?token=", "/a?token=REDACTED"],
    // A value holding "=" or "&"-free junk is replaced whole.
    ["/a?sig=a=b=c", "/a?sig=REDACTED"],
    // ";" separates parameters for some origins.
    ["/a?x=1;session=abc", "/a?x=1;session=REDACTED"],
    // A malformed escape in the name neither throws nor hides a valid one.
    ["/a?%zz=1&%74oken%zz=s3cr3t", "/a?%zz=1&%74oken%zz=REDACTED"],
    ["/a?%E0%A4%A=1", "/a?%E0%A4%A=1"],
  ])("%s → %s", (input, output) => {
    expect(loggedPath(input)).toBe(output);
  });

  it("cuts a long query after redacting it, so no secret is exposed by the cut", () => {
    const secret = "S".repeat(4_000);
    const long = `/a?pad=${"p".repeat(LOG_PATH_MAX_CHARS - 20)}&token=${secret}&more=${"m".repeat(10_000)}`;
    const out = loggedPath(long);
    expect(out.length).toBe(LOG_PATH_MAX_CHARS);
    expect(out.endsWith("...")).toBe(true);
    expect(out).not.toContain("SSSS");
    const first = loggedPath(`/a?token=${secret}&${"x=1&".repeat(5_000)}`);
    expect(first.startsWith("/a?token=REDACTED&x=1")).toBe(true);
    expect(first).not.toContain("SSSS");
  });

  it("handles a 16 KB query of many parameters in linear time", () => {
    const query = Array.from({ length: 4_000 }, (_, i) => (i % 7 === 0 ? `token=v${i}` : `p${i}=v${i}`)).join("&");
    const out = loggedPath(`/a?${query}`, Number.MAX_SAFE_INTEGER);
    expect(out.match(/REDACTED/g)).toHaveLength(Math.ceil(4_000 / 7));
  });

  it("property: the value of a credential parameter never appears, whatever surrounds it; other parameters are unchanged", () => {
    const names = [...CREDENTIAL_PARAM_NAMES];
    const plainName = fc.stringMatching(/^[a-z]{1,6}$/).filter((n) => !isCredentialName(n));
    const value = fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/);
    const param = fc.oneof(
      fc.record({ secret: fc.constant(true), name: fc.constantFrom(...names), value }),
      fc.record({ secret: fc.constant(false), name: plainName, value }),
    );
    fc.assert(
      fc.property(fc.array(param, { maxLength: 8 }), fc.constantFrom("&", ";"), (params, sep) => {
        const marker = "Zq9SECRETq9Z";
        const query = params.map((p) => `${encodeURIComponent(p.name)}=${p.secret ? marker : p.value}`).join(sep);
        const out = loggedPath(`/x?${query}`);
        expect(out).not.toContain(marker);
        for (const p of params) if (!p.secret) expect(out).toContain(`${p.name}=${p.value}`);
      }),
    );
  });
});

describe("loggedUrl (a tenant's feed URL in a log line)", () => {
  it("keeps origin and path, redacts credential-like query values, drops userinfo and fragment", () => {
    expect(loggedUrl("https://user:pw@feeds.example/revoked.json?token=abc&v=2#x")).toBe(
      "https://feeds.example/revoked.json?token=REDACTED&v=2",
    );
    expect(loggedUrl("https://s3.example/list?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA")).not.toMatch(/deadbeef|AKIA/);
    expect(loggedUrl("not a url?secret=1")).not.toContain("=1");
  });
});

describe("loggedPath: more key-like and one-time credential names", () => {
  it.each([
    "api-key",
    "x-api-key",
    "access_key",
    "private_key",
    "auth_key",
    "auth_code",
    "client_assertion",
    "otp",
    "hmac",
    "ticket",
    "sid",
    "aws_access_key_id",
  ])("%s", (name) => {
    expect(loggedPath(`/a?${name}=s3cr3t&page=2`)).toBe(`/a?${name}=REDACTED&page=2`);
  });
});
