/**
 * What a tenant's `hosts` entry may be: the value of a Host header Brim should answer for,
 * `host` or `host:port` (RFC 9110 §7.2, RFC 3986 §3.2.2).
 */
import { show } from "./config-values";

/** RFC 1123 §2.1 label: letters, digits, inner hyphens, at most 63 characters. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const DOTTED_NUMBERS = /^[0-9.]+$/;
const IPV4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const PORT = /^[1-9][0-9]{0,4}$/;
const MAX_PORT = 65_535;
/** RFC 1035 §2.3.4, without the trailing root dot. */
const MAX_HOSTNAME_CHARS = 253;

/**
 * Why `text` is not a valid `host` or `host:port`, or null. Hostnames are plain ASCII: the
 * Host header carries internationalized names in their "xn--" form.
 */
export function hostProblem(text: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return `expected a host, not a URL, got ${show(text)}`;
  }
  const { name, port } = splitPort(text);
  if (port !== null && !(PORT.test(port) && Number(port) <= MAX_PORT)) {
    return `expected a port from 1 to 65535 after ":", got ${show(text)}`;
  }
  if (name.startsWith("[")) {
    return isIPv6Literal(name) ? null : `expected a bracketed IPv6 address, got ${show(text)}`;
  }
  // WHATWG URL parsing reads an all-numeric name as IPv4, so "1.2.3" is not a hostname.
  if (DOTTED_NUMBERS.test(name)) {
    return isIPv4(name) ? null : `expected an IPv4 address like "192.0.2.1", got ${show(text)}`;
  }
  const labels = name.split(".");
  if (name.length > MAX_HOSTNAME_CHARS || !labels.every((label) => LABEL.test(label))) {
    return `expected host or host:port (letters, digits, "-" and "." only), got ${show(text)}`;
  }
  return null;
}

/** Splits off a trailing ":port"; a bracketed IPv6 literal keeps its own colons. */
/**
 * The host name without its port, lower-cased: what a tenant owns. Ports do not separate
 * sites (cookies ignore them, and Cloudflare serves several ports on one hostname), so one
 * name belongs to one tenant whatever the port.
 */
export function hostName(host: string): string {
  return splitPort(host).name.toLowerCase();
}

function splitPort(text: string): { name: string; port: string | null } {
  const bracket = text.lastIndexOf("]");
  const colon = text.lastIndexOf(":");
  if (colon === -1 || colon < bracket) return { name: text, port: null };
  if (!text.startsWith("[") && text.indexOf(":") !== colon) return { name: text, port: null };
  return { name: text.slice(0, colon), port: text.slice(colon + 1) };
}

function isIPv4(name: string): boolean {
  const octets = name.split(".");
  return octets.length === 4 && octets.every((o) => IPV4_OCTET.test(o) && Number(o) <= 255);
}

/** The URL parser implements RFC 4291 §2.2 text forms exactly; reuse it rather than a regex. */
function isIPv6Literal(name: string): boolean {
  return /^\[[0-9a-f:.]+\]$/i.test(name) && URL.canParse(`http://${name}/`);
}
