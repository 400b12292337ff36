/** Host header syntax (src/http/host.ts): RFC 9110 §7.2 `uri-host [":" port]`. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidHost } from "../../src/http/host";

describe("isValidHost", () => {
  it.each([
    "acme.test",
    "ACME.Test",
    "acme.test:8443",
    "acme.test:",
    "acme.test.",
    "acme",
    "under_score.test",
    "xn--bcher-kva.test",
    "a%2Eb",
    "192.0.2.1",
    "192.0.2.1:80",
    "1.2.3",
    "[::1]",
    "[::1]:8787",
    "[2001:db8::1]",
    "[::ffff:192.0.2.1]",
    "[v1.fe80::a+en1]",
    "",
    "acme.test:99999",
  ])("%s is syntactically a host", (host) => {
    expect(isValidHost(host)).toBe(true);
  });

  it.each([
    "a b",
    "acme.test:x",
    "acme.test:80:80",
    "a@b",
    "user@acme.test",
    "acme.test/x",
    "acme.test?x",
    "acme.test#x",
    "::1",
    "[::1",
    "::1]",
    "[::zz]",
    "[acme.test]",
    "ac\\me.test",
    'acme"test',
    "bücher.test",
    "a%zzb",
    "acme.test:8443 ",
    "<acme>",
    "a{b}",
    "a|b",
  ])("%s is not", (host) => {
    expect(isValidHost(host)).toBe(false);
  });

  it("accepts every reg-name[:port] and refuses any with a character outside RFC 3986 §3.2.2", () => {
    const regChar = fc.constantFrom(..."abcXYZ0189-._~!$&'()*+,;=");
    const name = fc.string({ unit: regChar, maxLength: 20 });
    const port = fc.option(fc.stringMatching(/^[0-9]{0,5}$/), { nil: undefined });
    fc.assert(
      fc.property(name, port, (n, p) => {
        expect(isValidHost(p === undefined ? n : `${n}:${p}`)).toBe(true);
      }),
    );
    const bad = fc.constantFrom(...' "#/<>?@[\\]^`{|}\u00e9\u0000');
    fc.assert(
      fc.property(name, bad, name, (a, b, c) => {
        expect(isValidHost(`${a}${b}${c}`)).toBe(false);
      }),
    );
  });
});
