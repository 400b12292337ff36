/**
 * One origin body, read once, replayed to any number of readers, each at its own pace.
 *
 * Why a replay buffer and not `tee()`: waiters join at different times, after some bytes have
 * already arrived, and each must still get the body from its first byte. Readers start
 * streaming at once (nobody waits for the whole body). While the body is small the buffer
 * keeps everything (late joiners can replay it); once it passes `sharedMaxBytes` the flight
 * stops taking new readers (`joinable` is false), bytes every reader has passed are released,
 * and the origin is read only while the slowest reader is less than `maxLagBytes` behind.
 * So memory stays bounded and a body of any size still reaches every reader whole.
 */
export interface SharedBodyOptions {
  readonly sharedMaxBytes: number;
  readonly maxLagBytes: number;
}

export class SharedBody {
  readonly #source: ReadableStreamDefaultReader<Uint8Array>;
  readonly #options: SharedBodyOptions;
  /** Chunks from absolute index `#base` on; earlier ones were released. */
  #chunks: Uint8Array[] = [];
  #base = 0;
  #bytes = 0;
  #done = false;
  #error: unknown = null;
  #pumping = false;
  #readers = new Set<{ next: number }>();
  #waiting: (() => void)[] = [];
  #settle!: () => void;
  #started!: () => void;
  /** Resolves once the first chunk is in, or the body ended or failed before one. */
  readonly started = new Promise<void>((resolve) => (this.#started = resolve));
  /** Resolves when the origin body has been read to the end, failed, or was abandoned. */
  readonly settled = new Promise<void>((resolve) => (this.#settle = resolve));

  constructor(source: ReadableStream<Uint8Array>, options: SharedBodyOptions) {
    this.#source = source.getReader();
    this.#options = options;
    void this.#pump();
  }

  /** True while a new reader can still get the whole body from the buffer. */
  get joinable(): boolean {
    return this.#base === 0 && this.#bytes <= this.#options.sharedMaxBytes && this.#error === null;
  }

  get complete(): boolean {
    return this.#done;
  }

  get byteLength(): number {
    return this.#bytes;
  }

  /** The whole body, if it is complete and still fully buffered. */
  bytes(): Uint8Array | null {
    if (!this.#done || this.#base !== 0) return null;
    const out = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }

  /** A new stream of the whole body. Only valid while `joinable`. */
  reader(): ReadableStream<Uint8Array> {
    const cursor = { next: this.#base };
    this.#readers.add(cursor);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          if (cursor.next < this.#base + this.#chunks.length) {
            const chunk = this.#chunks[cursor.next - this.#base]!;
            cursor.next += 1;
            controller.enqueue(chunk);
            this.#release();
            return;
          }
          if (this.#error !== null) {
            this.#readers.delete(cursor);
            controller.error(this.#error);
            return;
          }
          if (this.#done) {
            this.#readers.delete(cursor);
            this.#release();
            controller.close();
            return;
          }
          await this.#wait();
        }
      },
      cancel: () => {
        this.#readers.delete(cursor);
        this.#release();
      },
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#done && !this.#tooFarAhead()) {
        const { done, value } = await this.#source.read();
        if (done) {
          this.#done = true;
          this.#settle();
        } else {
          this.#chunks.push(value);
          this.#bytes += value.byteLength;
          this.#drop();
        }
        this.#started();
        this.#wake();
      }
    } catch (error) {
      this.#error = error ?? new Error("origin body failed");
      this.#settle();
      this.#started();
      this.#wake();
    } finally {
      this.#pumping = false;
    }
  }

  /** Past the shared limit, stop reading the origin while the slowest reader lags too far. */
  #tooFarAhead(): boolean {
    if (this.#bytes <= this.#options.sharedMaxBytes || this.#readers.size === 0) return false;
    const lagChunks = this.#base + this.#chunks.length - this.#slowest();
    let lagBytes = 0;
    for (let i = this.#chunks.length - lagChunks; i < this.#chunks.length; i++) lagBytes += this.#chunks[i]!.byteLength;
    return lagBytes > this.#options.maxLagBytes;
  }

  #slowest(): number {
    let min = Infinity;
    for (const reader of this.#readers) min = Math.min(min, reader.next);
    return min === Infinity ? this.#base + this.#chunks.length : min;
  }

  /** Once the body is too big to replay, drop what every reader has passed. */
  #drop(): void {
    if (this.#bytes <= this.#options.sharedMaxBytes) return;
    const drop = this.#slowest() - this.#base;
    if (drop > 0) {
      this.#chunks.splice(0, drop);
      this.#base += drop;
    }
  }

  /** After a reader moved on or left: drop, then resume reading, or stop if nobody is left. */
  #release(): void {
    this.#drop();
    if (this.#done || this.#bytes <= this.#options.sharedMaxBytes) return;
    if (this.#readers.size === 0) {
      // Too big to replay and nobody reading: no one can join any more, so stop the origin.
      this.#done = true;
      this.#settle();
      void this.#source.cancel().catch(() => {});
      return;
    }
    if (!this.#pumping) void this.#pump();
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
  }
}
