import { DurableObject } from "cloudflare:workers";
import { PURGE_MAX_MARKS } from "../constants";
import { marked, NO_MARK, type Mark, type MarkKind, type MarkRecord } from "./rules";
import type { PurgeRequest } from "./request";

/** What an isolate gets back: marks changed since the sequence number it already has. */
export interface PurgeDelta {
  readonly seq: number;
  readonly all: Mark;
  readonly marks: readonly MarkRecord[];
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS marks (
  kind TEXT NOT NULL, name TEXT NOT NULL, hard INTEGER NOT NULL, soft INTEGER NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (kind, name))`;

/** Rows that are not selectors: the sequence number and the purge-everything mark. */
const SEQ_ROW = "seq";
const ALL_ROW = "all";

/**
 * One object per tenant (named by tenant id): the tenant's purge log. Every purge takes the
 * next sequence number and updates its marks in SQLite storage before it is acknowledged, so
 * no acknowledged purge is lost to eviction or restart; memory holds a copy for reads.
 * Isolates read the marks newer than the sequence number they hold (src/purge/client.ts).
 */
export class PurgeLog extends DurableObject<Env> {
  #seq = 0;
  #all: Mark = NO_MARK;
  readonly #marks = new Map<string, MarkRecord>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(SCHEMA);
      for (const row of sql.exec<{ kind: string; name: string; hard: number; soft: number; at: number }>(
        "SELECT kind, name, hard, soft, at FROM marks",
      )) {
        const mark = { hard: row.hard, soft: row.soft, at: row.at };
        if (row.kind === SEQ_ROW) this.#seq = row.hard;
        else if (row.kind === ALL_ROW) this.#all = mark;
        else this.#marks.set(markId(row.kind as MarkKind, row.name), { kind: row.kind as MarkKind, name: row.name, mark });
      }
    });
  }

  /** Records a purge; resolves once it is durable. `now` is the caller's clock (epoch ms). */
  async purge(request: PurgeRequest, now: number): Promise<{ readonly seq: number }> {
    const seq = ++this.#seq;
    const sql = this.ctx.storage.sql;
    const put = (kind: string, name: string, mark: Mark): void => {
      sql.exec(
        "INSERT OR REPLACE INTO marks (kind, name, hard, soft, at) VALUES (?, ?, ?, ?, ?)",
        kind,
        name,
        mark.hard,
        mark.soft,
        mark.at,
      );
    };
    this.ctx.storage.transactionSync(() => {
      put(SEQ_ROW, "", { hard: seq, soft: 0, at: now });
      if (request.all) {
        this.#all = marked(this.#all, seq, request.soft, now);
        put(ALL_ROW, "", this.#all);
      }
      const selectors: [MarkKind, readonly string[]][] = [
        ["url", request.urls],
        ["prefix", request.prefixes],
        ["tag", request.tags],
      ];
      for (const [kind, names] of selectors) {
        for (const name of names) {
          const id = markId(kind, name);
          const mark = marked(this.#marks.get(id)?.mark ?? NO_MARK, seq, request.soft, now);
          this.#marks.set(id, { kind, name, mark });
          put(kind, name, mark);
        }
      }
      this.#fold(now, put);
    });
    return { seq };
  }

  /** Marks changed after `have` (everything when `have` is 0). */
  read(have: number): PurgeDelta {
    if (have >= this.#seq) return { seq: this.#seq, all: this.#all, marks: [] };
    const marks: MarkRecord[] = [];
    for (const record of this.#marks.values()) if (Math.max(record.mark.hard, record.mark.soft) > have) marks.push(record);
    return { seq: this.#seq, all: this.#all, marks };
  }

  /**
   * Keeps the log bounded: past PURGE_MAX_MARKS, the oldest marks become a purge of
   * everything of the same strength. Entries they covered are then purged with the rest, a
   * safe over-approximation (isolates' copies of the dropped marks stay correct too).
   */
  #fold(now: number, put: (kind: string, name: string, mark: Mark) => void): void {
    const excess = this.#marks.size - PURGE_MAX_MARKS;
    if (excess <= 0) return;
    const oldest = [...this.#marks.entries()]
      .sort(([, a], [, b]) => Math.max(a.mark.hard, a.mark.soft) - Math.max(b.mark.hard, b.mark.soft))
      .slice(0, excess);
    let { hard, soft } = this.#all;
    for (const [id, record] of oldest) {
      hard = Math.max(hard, record.mark.hard);
      soft = Math.max(soft, record.mark.soft);
      this.#marks.delete(id);
      this.ctx.storage.sql.exec("DELETE FROM marks WHERE kind = ? AND name = ?", record.kind, record.name);
    }
    this.#all = { hard, soft, at: now };
    put(ALL_ROW, "", this.#all);
  }
}

function markId(kind: MarkKind, name: string): string {
  return `${kind}\n${name}`;
}
