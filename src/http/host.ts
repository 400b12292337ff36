/**
 * Host header syntax (RFC 9110 §7.2): `uri-host [ ":" port ]`, where uri-host is RFC 3986
 * §3.2.2 `IP-literal / IPv4address / reg-name` and port is `*DIGIT` (§3.2.3). A value that does
 * not parse is a bad request (RFC 9112 §3.2: 400), not a host Brim merely does not serve (421).
 */

/** reg-name: unreserved / pct-encoded / sub-delims, possibly empty (RFC 3986 §3.2.2). */
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
/** IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ). */
const IP_FUTURE = /^\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]$/;
const IPV6_CHARS = /^\[[0-9A-Fa-f:.]+\]$/;
const PORT = /^[0-9]*$/;

/** Whether `value` is syntactically a Host header value. Says nothing about who serves it. */
export function isValidHost(value: string): boolean {
  let host = value;
  const bracket = value.lastIndexOf("]");
  const colon = value.lastIndexOf(":");
  if (colon > bracket) {
    if (!PORT.test(value.slice(colon + 1))) return false;
    host = value.slice(0, colon);
  }
  if (host.startsWith("[")) return isIpLiteral(host);
  // reg-name has no ":", so a second colon (an unbracketed IPv6 address) fails here.
  return REG_NAME.test(host);
}

/** The URL parser implements RFC 4291 §2.2 text forms exactly; reuse it rather than a regex. */
function isIpLiteral(host: string): boolean {
  if (IP_FUTURE.test(host)) return true;
  return IPV6_CHARS.test(host) && URL.canParse(`http://${host}/`);
}
