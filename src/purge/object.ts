import { DurableObject } from "cloudflare:workers";
import { PURGE_EXPIRY_INTERVAL_MS, PURGE_FOLD_TO_MARKS, PURGE_MARK_TTL_MS, PURGE_MAX_MARK_NAME_BYTES, PURGE_MAX_MARKS } from "../constants";
import { marked, markSeq, NO_MARK, type Mark, type MarkKind, type MarkRecord } from "./rules";
import type { PurgeRequest } from "./request";

/** What an isolate gets back: marks changed since the sequence number it already has, or all of them. */
export interface PurgeDelta {
  readonly seq: number;
  readonly all: Mark;
  readonly marks: readonly MarkRecord[];
  /** Marks whose last purge (`at`, epoch ms) is older than this have expired: holders may drop them. */
  readonly horizon: number;
  /**
   * `marks` is every mark at `seq`, not a delta: the holder replaces what it has (and so drops
   * marks that expired or were folded since). Sent when the holder has nothing, or is behind a removal.
   */
  readonly full: boolean;
}

/** What one purge did to the log. */
export interface PurgeOutcome {
  readonly seq: number;
  /** Marks in the table after this purge. */
  readonly marks: number;
  /** Marks dropped by this call because they expired (PURGE_MARK_TTL_MS). */
  readonly expired: number;
  /** Marks folded into a purge of everything by this call (the last resort; 0 normally). */
  readonly folded: number;
  /** Folds since the log began (a counter for operators). */
  readonly folds: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS marks (
  kind TEXT NOT NULL, name TEXT NOT NULL, hard INTEGER NOT NULL, soft INTEGER NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (kind, name))`;

/**
 * Rows that are not selectors: the sequence number, the purge-everything mark, and the log's
 * own state (`hard` = highest seq of a removed mark, `soft` = folds so far, `at` = horizon).
 */
const SEQ_ROW = "seq";
const ALL_ROW = "all";
const STATE_ROW = "state";

/** The ids of one purge's marks, in sequence order: a delta is found without scanning the table. */
interface LogEntry {
  readonly seq: number;
  readonly ids: string[];
}

/**
 * One object per tenant (named by tenant id): the tenant's purge log. Every purge takes the
 * next sequence number and updates its marks in SQLite storage before it is acknowledged, so
 * no acknowledged purge is lost to eviction or restart; memory holds a copy for reads.
 * Isolates read the marks newer than the sequence number they hold (src/purge/client.ts).
 *
 * Bounded: a mark expires PURGE_MARK_TTL_MS after its last purge (no entry it could match can
 * still be served); only if the table is still past PURGE_MAX_MARKS / PURGE_MAX_MARK_NAME_BYTES
 * are the oldest folded into a purge of everything (safe, costly, logged and counted).
 *
 * Clock: expiry uses the caller's `now` (the injected clock of the isolate calling), the same
 * clock that stamped every `at`, so tests can move it; the horizon only moves forward, so a
 * caller with a late clock never revives anything, and PURGE_MARK_TTL_SLACK_MS (a day) dwarfs
 * the skew between Workers' clocks. Callers are Brim's isolates only; tenants never give `now`.
 */
export class PurgeLog extends DurableObject<Env> {
  #seq = 0;
  #all: Mark = NO_MARK;
  /** In the order of each mark's last change (its sequence number): oldest first. */
  readonly #marks = new Map<string, MarkRecord>();
  #log: LogEntry[] = [];
  #logIds = 0;
  #nameBytes = 0;
  /** Highest sequence number of a mark removed (expired or folded): holders behind it get everything. */
  #removedSeq = 0;
  /** Epoch ms: marks last purged before this have expired (0: none yet). */
  #horizon = 0;
  #folds = 0;
  #expiredAt = Number.NEGATIVE_INFINITY;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(SCHEMA);
      for (const row of sql.exec<{ kind: string; name: string; hard: number; soft: number; at: number }>(
        "SELECT kind, name, hard, soft, at FROM marks ORDER BY MAX(hard, soft)",
      )) {
        const mark = { hard: row.hard, soft: row.soft, at: row.at };
        if (row.kind === SEQ_ROW) this.#seq = row.hard;
        else if (row.kind === ALL_ROW) this.#all = mark;
        else if (row.kind === STATE_ROW) {
          this.#removedSeq = row.hard;
          this.#folds = row.soft;
          this.#horizon = row.at;
        } else this.#set({ kind: row.kind as MarkKind, name: row.name, mark });
      }
      this.#rebuildLog();
    });
  }

  /** Records a purge; resolves once it is durable. `now` is the caller's clock (epoch ms). */
  async purge(request: PurgeRequest, now: number): Promise<PurgeOutcome> {
    const seq = ++this.#seq;
    const sql = this.ctx.storage.sql;
    let expired = 0;
    let folded = 0;
    this.ctx.storage.transactionSync(() => {
      put(sql, SEQ_ROW, "", { hard: seq, soft: 0, at: now });
      if (request.all) {
        this.#all = marked(this.#all, seq, request.soft, now);
        put(sql, ALL_ROW, "", this.#all);
      }
      const ids: string[] = [];
      const selectors: [MarkKind, readonly string[]][] = [
        ["url", request.urls],
        ["prefix", request.prefixes],
        ["tag", request.tags],
      ];
      for (const [kind, names] of selectors) {
        for (const name of names) {
          const id = markId(kind, name);
          const mark = marked(this.#marks.get(id)?.mark ?? NO_MARK, seq, request.soft, now);
          this.#set({ kind, name, mark });
          put(sql, kind, name, mark);
          ids.push(id);
        }
      }
      if (ids.length > 0) this.#appendLog(seq, ids);
      expired = this.#expire(now, this.#overBounds());
      if (this.#overBounds()) folded = this.#fold(now);
      if (expired + folded > 0) this.#saveState();
    });
    if (folded > 0) {
      // The last resort: every entry older than the folded marks is purged. Operators should see it.
      console.log(JSON.stringify({ event: "purge-log-folded", folded, marks: this.#marks.size, folds: this.#folds, seq }));
    }
    return { seq, marks: this.#marks.size, expired, folded, folds: this.#folds };
  }

  /**
   * Marks changed after `have`; everything (`full`) when `have` is 0 or older than a removed mark.
   * `now` (the caller's clock) lets a log that sees no purges still expire its marks.
   */
  read(have: number, now?: number): PurgeDelta {
    if (now !== undefined && now - this.#expiredAt >= PURGE_EXPIRY_INTERVAL_MS) {
      this.ctx.storage.transactionSync(() => {
        if (this.#expire(now, false) > 0) this.#saveState();
      });
    }
    const base = { seq: this.#seq, all: this.#all, horizon: this.#horizon };
    if (have >= this.#seq) return { ...base, marks: [], full: false };
    if (have <= 0 || have < this.#removedSeq) return { ...base, marks: [...this.#marks.values()], full: true };
    const marks: MarkRecord[] = [];
    for (let i = firstAfter(this.#log, have); i < this.#log.length; i++) {
      const entry = this.#log[i]!;
      for (const id of entry.ids) {
        const record = this.#marks.get(id);
        // Purged again later: listed (once) under its newest sequence number.
        if (record && markSeq(record.mark) === entry.seq) marks.push(record);
      }
    }
    return { ...base, marks, full: false };
  }

  /** Marks in the table, and name bytes (for tests and operators). */
  size(): { readonly marks: number; readonly nameBytes: number; readonly folds: number; readonly horizon: number } {
    return { marks: this.#marks.size, nameBytes: this.#nameBytes, folds: this.#folds, horizon: this.#horizon };
  }

  #overBounds(): boolean {
    return this.#marks.size > PURGE_MAX_MARKS || this.#nameBytes > PURGE_MAX_MARK_NAME_BYTES;
  }

  /** Drops marks older than the longest storage time (at most every PURGE_EXPIRY_INTERVAL_MS, unless `force`). */
  #expire(now: number, force: boolean): number {
    if (!force && now - this.#expiredAt < PURGE_EXPIRY_INTERVAL_MS) return 0;
    this.#expiredAt = now;
    const horizon = now - PURGE_MARK_TTL_MS;
    if (horizon <= this.#horizon) return 0;
    this.#horizon = horizon;
    const gone: MarkRecord[] = [];
    for (const record of this.#marks.values()) if (record.mark.at < horizon) gone.push(record);
    for (const record of gone) this.#remove(record);
    if (gone.length > 0) this.#rebuildLog();
    return gone.length;
  }

  /**
   * The last resort, the table still too large after expiry: the oldest marks become a purge of
   * everything of the same strength, down to PURGE_FOLD_TO_MARKS (and three quarters of the byte
   * bound). Entries they covered are then purged with everything older, a safe over-approximation
   * (isolates' copies of the dropped marks stay correct too).
   */
  #fold(now: number): number {
    let { hard, soft } = this.#all;
    let folded = 0;
    const targetBytes = (PURGE_MAX_MARK_NAME_BYTES * 3) / 4;
    for (const record of this.#marks.values()) {
      if (this.#marks.size <= PURGE_FOLD_TO_MARKS && this.#nameBytes <= targetBytes) break;
      hard = Math.max(hard, record.mark.hard);
      soft = Math.max(soft, record.mark.soft);
      this.#remove(record);
      folded += 1;
    }
    this.#all = { hard, soft, at: now };
    put(this.ctx.storage.sql, ALL_ROW, "", this.#all);
    this.#folds += 1;
    this.#rebuildLog();
    return folded;
  }

  #set(record: MarkRecord): void {
    const id = markId(record.kind, record.name);
    const previous = this.#marks.get(id);
    // Delete first: the map stays in the order of last change, so the oldest come first.
    if (previous) this.#marks.delete(id);
    else this.#nameBytes += record.name.length;
    this.#marks.set(id, record);
  }

  #remove(record: MarkRecord): void {
    this.#marks.delete(markId(record.kind, record.name));
    this.#nameBytes -= record.name.length;
    this.#removedSeq = Math.max(this.#removedSeq, markSeq(record.mark));
    this.ctx.storage.sql.exec("DELETE FROM marks WHERE kind = ? AND name = ?", record.kind, record.name);
  }

  #saveState(): void {
    put(this.ctx.storage.sql, STATE_ROW, "", { hard: this.#removedSeq, soft: this.#folds, at: this.#horizon });
  }

  #appendLog(seq: number, ids: string[]): void {
    this.#log.push({ seq, ids });
    this.#logIds += ids.length;
    // The same selectors purged over and over: keep the index proportional to the table.
    if (this.#logIds > 2 * this.#marks.size + 1_000) this.#rebuildLog();
  }

  /** The index again from the table (already in sequence order). */
  #rebuildLog(): void {
    const log: LogEntry[] = [];
    for (const [id, record] of this.#marks) {
      const seq = markSeq(record.mark);
      const last = log[log.length - 1];
      if (last && last.seq === seq) last.ids.push(id);
      else log.push({ seq, ids: [id] });
    }
    this.#log = log;
    this.#logIds = this.#marks.size;
  }
}

function put(sql: SqlStorage, kind: string, name: string, mark: Mark): void {
  sql.exec("INSERT OR REPLACE INTO marks (kind, name, hard, soft, at) VALUES (?, ?, ?, ?, ?)", kind, name, mark.hard, mark.soft, mark.at);
}

/** Index of the first entry with a sequence number above `seq` (entries are in ascending order). */
function firstAfter(log: readonly LogEntry[], seq: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function markId(kind: MarkKind, name: string): string {
  return `${kind}\n${name}`;
}
