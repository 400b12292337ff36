/**
 * An incremental parser for the published revocation feed (format in `feed.ts`), fed the body
 * as it arrives (`write` per decoded chunk, then `end`). It keeps only what the list needs: jti
 * as 64-bit fingerprints (8 bytes each, in fixed-size blocks), subject cut-offs, `iss`,
 * `allowShrink` and `count`. What it holds is bounded by the caps, never by the body: the
 * current chunk, one partial string or number (≤ REVOCATION_MAX_STRING_CHARS), and the blocks.
 *
 * Strict JSON (RFC 8259) for the part of the grammar the feed uses: one object whose members
 * are the five below; `jti` a list of strings; `sub` an object of numbers. Anything else fails
 * at the first byte that cannot belong to a valid feed, so a wrong or hostile document costs no
 * more than the bytes up to that point. Strings are decoded as `JSON.parse` would (escapes,
 * surrogate pairs as two code units), so fingerprints match `fingerprint64` of the token's jti.
 */
import { REVOCATION_MAX_JTI, REVOCATION_MAX_STRING_CHARS, REVOCATION_MAX_SUBJECTS } from "../../constants";
import { fingerprint64 } from "../hash";
import { sortUnique } from "./set";

/** Why a feed was rejected; the last good list stays in force. */
export type FeedRejection = "not-json" | "schema" | "wrong-issuer" | "shrink" | "truncated" | "too-large" | "count";

/** A feed read to its end and found well-formed (the shrink rule is `feed.ts`'s). */
export interface ParsedFeed {
  /** Sorted, without duplicates. */
  readonly jti: BigUint64Array;
  readonly sub: Map<string, number>;
  readonly allowShrink: boolean;
  /** jti + sub as listed (duplicates included). */
  readonly listed: number;
}

export type ParseResult =
  { readonly ok: true; readonly feed: ParsedFeed } | { readonly ok: false; readonly reason: FeedRejection; readonly detail: string };

/** What the parser held at most at once, for the memory bound (tests, logs). */
export interface ParseStats {
  /** Largest chunk plus partial token, in UTF-16 code units. */
  readonly maxHeldChars: number;
  readonly chars: number;
}

const BLOCK_ENTRIES = 65_536;
const MEMBERS: ReadonlySet<string> = new Set(["iss", "jti", "sub", "allowShrink", "count"]);
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const HEX = /^[0-9a-fA-F]$/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const SCALAR_START = /^[-0-9tfn]$/;

type Where = "start" | "root" | "jti" | "sub" | "end";
type Expect = "value" | "key" | "key-or-close" | "value-or-close" | "colon" | "comma-or-close";

export class FeedParser {
  readonly #issuer: string;
  #where: Where = "start";
  #expect: Expect = "value";
  /** The root member, or the subject, whose value comes next. */
  #key = "";
  #seen = new Set<string>();
  #partial = "";
  #inString = false;
  #stringIsKey = false;
  /** null: not in an escape; "": just after "\"; "u…": a \u escape so far. */
  #escape: string | null = null;
  #inScalar = false;
  #failure: { reason: FeedRejection; detail: string } | null = null;
  #blocks: BigUint64Array[] = [];
  #block = new BigUint64Array(BLOCK_ENTRIES);
  #fill = 0;
  #jti = 0;
  #sub = new Map<string, number>();
  #subListed = 0;
  #iss: string | null = null;
  #allowShrink = false;
  #count: number | null = null;
  #maxHeld = 0;
  #chars = 0;

  constructor(issuer: string) {
    this.#issuer = issuer;
  }

  /** The first failure so far (the caller stops reading), or null. */
  get failure(): { readonly reason: FeedRejection; readonly detail: string } | null {
    return this.#failure;
  }

  get stats(): ParseStats {
    return { maxHeldChars: this.#maxHeld, chars: this.#chars };
  }

  /** jti fingerprints held so far, in bytes (blocks allocated). */
  get heldBytes(): number {
    return (this.#blocks.length + 1) * BLOCK_ENTRIES * 8;
  }

  write(text: string): void {
    this.#chars += text.length;
    this.#maxHeld = Math.max(this.#maxHeld, text.length + this.#partial.length);
    let i = 0;
    while (i < text.length && !this.#failure) {
      if (this.#inString) i = this.#string(text, i);
      else if (this.#inScalar) i = this.#scalar(text, i);
      else {
        const c = text.charCodeAt(i);
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
        else i = this.#structural(text, i);
      }
    }
  }

  end(): ParseResult {
    if (this.#inScalar && !this.#failure) this.#endScalar();
    if (this.#failure) return { ok: false, ...this.#failure };
    if (this.#where === "start") return { ok: false, reason: "not-json", detail: "the feed is empty" };
    if (this.#where !== "end")
      return {
        ok: false,
        reason: "truncated",
        detail: `the feed ends inside ${this.#where === "root" ? "the object" : `"${this.#where}"`}`,
      };
    if (this.#iss === null) return { ok: false, reason: "wrong-issuer", detail: '"iss" is missing' };
    const listed = this.#jti + this.#subListed;
    if (this.#count !== null && this.#count !== listed) {
      return { ok: false, reason: "count", detail: `"count" says ${this.#count} entries, the feed lists ${listed}` };
    }
    const all = new BigUint64Array(this.#jti);
    let at = 0;
    for (const block of this.#blocks) {
      all.set(block, at);
      at += block.length;
    }
    all.set(this.#block.subarray(0, this.#fill), at);
    this.#blocks = [];
    this.#block = new BigUint64Array(0);
    return { ok: true, feed: { jti: sortUnique(all), sub: this.#sub, allowShrink: this.#allowShrink, listed } };
  }

  #fail(reason: FeedRejection, detail: string): number {
    this.#failure ??= { reason, detail };
    return Number.MAX_SAFE_INTEGER;
  }

  /** A structural character, or the start of a string or scalar. */
  #structural(text: string, i: number): number {
    const ch = text[i] as string;
    const expect = this.#expect;
    if (this.#where === "end") return this.#fail("not-json", "data after the feed's object");
    if (ch === '"') {
      if (expect === "colon" || expect === "comma-or-close") return this.#fail("not-json", "unexpected string");
      this.#inString = true;
      this.#stringIsKey = expect === "key" || expect === "key-or-close";
      this.#partial = "";
      return i + 1;
    }
    if (expect === "colon") {
      if (ch !== ":") return this.#fail("not-json", "expected ':'");
      this.#expect = "value";
      return i + 1;
    }
    if (expect === "comma-or-close") {
      const close = this.#where === "jti" ? "]" : "}";
      if (ch === ",") this.#expect = this.#where === "jti" ? "value" : "key";
      else if (ch === close) this.#close();
      else return this.#fail("not-json", `expected ',' or '${close}'`);
      return i + 1;
    }
    if (expect === "key-or-close" && ch === "}") {
      this.#close();
      return i + 1;
    }
    if (expect === "value-or-close" && ch === "]") {
      this.#close();
      return i + 1;
    }
    if (expect === "key" || expect === "key-or-close") return this.#fail("not-json", "expected a member name");
    // A value that is not a string.
    if (ch === "{" || ch === "[") return this.#open(ch, i);
    if (!SCALAR_START.test(ch)) return this.#fail("not-json", "the feed is not JSON");
    this.#inScalar = true;
    this.#partial = "";
    return i;
  }

  #open(ch: "{" | "[", i: number): number {
    if (this.#where === "start") {
      if (ch === "[") return this.#fail("schema", "expected a JSON object");
      this.#where = "root";
      this.#expect = "key-or-close";
      return i + 1;
    }
    if (this.#where === "root" && this.#key === "jti" && ch === "[") {
      this.#where = "jti";
      this.#expect = "value-or-close";
      return i + 1;
    }
    if (this.#where === "root" && this.#key === "sub" && ch === "{") {
      this.#where = "sub";
      this.#expect = "key-or-close";
      return i + 1;
    }
    return this.#wrongType();
  }

  #close(): void {
    if (this.#where === "root") this.#where = "end";
    else this.#where = "root";
    this.#expect = "comma-or-close";
  }

  #wrongType(): number {
    if (this.#where === "start") return this.#fail("schema", "expected a JSON object");
    if (this.#where === "jti" || this.#key === "jti") return this.#fail("schema", '"jti" must be a list of strings');
    if (this.#where === "sub") return this.#fail("schema", `"sub.${this.#key.slice(0, 64)}" must be a Unix time in seconds`);
    if (this.#key === "sub") return this.#fail("schema", '"sub" must be an object');
    if (this.#key === "iss") return this.#fail("wrong-issuer", '"iss" is not a string');
    if (this.#key === "allowShrink") return this.#fail("schema", '"allowShrink" must be true or false');
    return this.#fail("schema", '"count" must be a whole number of entries');
  }

  #string(text: string, i: number): number {
    let start = i;
    for (let j = i; j < text.length; j++) {
      if (this.#escape !== null) {
        const ch = text[j] as string;
        if (this.#escape === "") {
          if (ch === "u") {
            this.#escape = "u";
            continue;
          }
          const simple = ESCAPES[ch];
          if (simple === undefined) return this.#fail("not-json", "bad escape in a string");
          this.#append(simple);
        } else {
          if (!HEX.test(ch)) return this.#fail("not-json", "bad \\u escape in a string");
          this.#escape += ch;
          if (this.#escape.length < 5) continue;
          this.#append(String.fromCharCode(Number.parseInt(this.#escape.slice(1), 16)));
        }
        this.#escape = null;
        start = j + 1;
        continue;
      }
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        this.#append(text.slice(start, j));
        this.#inString = false;
        this.#endString();
        return j + 1;
      }
      if (c === 0x5c) {
        this.#append(text.slice(start, j));
        this.#escape = "";
      } else if (c < 0x20) return this.#fail("not-json", "control character in a string");
    }
    if (this.#escape === null) this.#append(text.slice(start));
    return text.length;
  }

  #append(part: string): void {
    this.#partial += part;
    if (this.#partial.length > REVOCATION_MAX_STRING_CHARS)
      this.#fail("schema", `a string longer than ${REVOCATION_MAX_STRING_CHARS} characters`);
  }

  #endString(): void {
    const value = this.#partial;
    this.#partial = "";
    if (this.#stringIsKey) {
      if (this.#where === "root") {
        if (!MEMBERS.has(value)) return void this.#fail("schema", `unknown member ${JSON.stringify(value.slice(0, 64))}`);
        if (this.#seen.has(value)) return void this.#fail("schema", `member ${JSON.stringify(value)} twice`);
        this.#seen.add(value);
      }
      this.#key = value;
      this.#expect = "colon";
      return;
    }
    this.#expect = "comma-or-close";
    if (this.#where === "jti") return this.#addJti(value);
    if (this.#where === "root" && this.#key === "iss") {
      this.#iss = value;
      if (value !== this.#issuer) {
        this.#fail("wrong-issuer", `"iss" is ${JSON.stringify(value.slice(0, 128))}, not ${JSON.stringify(this.#issuer)}`);
      }
      return;
    }
    this.#wrongType();
  }

  #addJti(id: string): void {
    if (this.#jti >= REVOCATION_MAX_JTI) return void this.#fail("too-large", `more than ${REVOCATION_MAX_JTI} jti`);
    if (this.#fill === BLOCK_ENTRIES) {
      this.#blocks.push(this.#block);
      this.#block = new BigUint64Array(BLOCK_ENTRIES);
      this.#fill = 0;
    }
    this.#block[this.#fill++] = fingerprint64(id);
    this.#jti++;
  }

  #scalar(text: string, i: number): number {
    let j = i;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
      j++;
    }
    this.#partial += text.slice(i, j);
    if (this.#partial.length > 64) return this.#fail("not-json", "a number or literal too long");
    if (j === text.length) return j;
    this.#endScalar();
    return j;
  }

  #endScalar(): void {
    const token = this.#partial;
    this.#partial = "";
    this.#inScalar = false;
    const literal = token === "true" ? true : token === "false" ? false : token === "null" ? null : undefined;
    if (literal === undefined && !NUMBER.test(token)) return void this.#fail("not-json", "the feed is not JSON");
    this.#expect = "comma-or-close";
    if (this.#where === "sub" && typeof literal === "undefined") return this.#addSubject(Number(token));
    if (this.#where === "root" && this.#key === "allowShrink" && typeof literal === "boolean") return void (this.#allowShrink = literal);
    if (this.#where === "root" && this.#key === "count" && literal === undefined) {
      const count = Number(token);
      if (Number.isSafeInteger(count) && count >= 0) {
        this.#count = count;
        // A feed that announces more than the caps is refused before its entries are read.
        if (count > REVOCATION_MAX_JTI + REVOCATION_MAX_SUBJECTS) {
          this.#fail("too-large", `"count" announces ${count} entries, more than ${REVOCATION_MAX_JTI + REVOCATION_MAX_SUBJECTS}`);
        }
        return;
      }
    }
    this.#wrongType();
  }

  #addSubject(at: number): void {
    if (!Number.isFinite(at)) return void this.#wrongType();
    this.#subListed++;
    const name = this.#key;
    const before = this.#sub.get(name);
    if (before === undefined && this.#sub.size >= REVOCATION_MAX_SUBJECTS) {
      return void this.#fail("too-large", `more than ${REVOCATION_MAX_SUBJECTS} subjects`);
    }
    // A subject listed twice: the later cut-off revokes more, and is kept.
    this.#sub.set(name, Math.max(at, before ?? Number.NEGATIVE_INFINITY));
  }
}
