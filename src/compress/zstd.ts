/**
 * zstd output (RFC 8878, content coding `zstd` per RFC 9659) with the zstd library compiled to
 * WebAssembly by `@bokuweb/zstd-wasm` (MIT, zstd's own C code): workerd's `node:zlib` zstd
 * encoder fails once a frame's output passes about 64 KiB (docs/compression.md).
 *
 * That package has one-shot `ZSTD_compress` only, so the stream is cut into independent frames
 * of at most `ZSTD_FRAME_BYTES` input each: RFC 8878 §3 makes zstd data "one or more frames",
 * every conforming decoder reads them in sequence, and a frame whose size is known up front
 * gets a window no larger than its input, well under RFC 9659 §3's 8 MB limit for HTTP. The
 * cost is some ratio at each frame boundary (measured in docs/compression.md) and a bounded
 * buffer of one frame's input.
 *
 * Workers may not compile WebAssembly from bytes at run time, so the module is imported
 * statically (wrangler's default rule makes `*.wasm` a compiled module) and instantiated
 * through Emscripten's `instantiateWasm` hook, once per isolate.
 */
// By path: the package's `exports` offer only its fetch-the-wasm entry points, and neither
// its Emscripten `Module` (for the `instantiateWasm` hook) nor the .wasm file itself.
import wasm from "../../node_modules/@bokuweb/zstd-wasm/dist/esm/zstd.wasm";
import { Module, waitInitialized } from "../../node_modules/@bokuweb/zstd-wasm/dist/esm/module.js";
import { compress } from "../../node_modules/@bokuweb/zstd-wasm/dist/esm/simple/compress.js";
import { ZSTD_FRAME_BYTES, ZSTD_LEVEL } from "../constants";

let ready: Promise<void> | null = null;

/** Instantiates the encoder once per isolate (synchronous compile-free: the module is precompiled). */
function loaded(): Promise<void> {
  return (ready ??= (() => {
    Module.instantiateWasm = (imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(wasm, imports);
      receive(instance);
      return instance.exports;
    };
    Module.init();
    return waitInitialized();
  })());
}

/**
 * A zstd-encoding stream: input is gathered into frames of `ZSTD_FRAME_BYTES` and each frame
 * is compressed and sent as soon as it is full, the last one at the end of the input.
 */
export function zstdCompressStream(): TransformStream<Uint8Array, Uint8Array> {
  const pending = new Uint8Array(ZSTD_FRAME_BYTES);
  let filled = 0;
  let frames = 0;
  const emit = (controller: TransformStreamDefaultController<Uint8Array>) => {
    controller.enqueue(compress(pending.subarray(0, filled), ZSTD_LEVEL));
    filled = 0;
    frames += 1;
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    start: () => loaded(),
    transform(chunk, controller) {
      for (let offset = 0; offset < chunk.byteLength;) {
        const take = Math.min(ZSTD_FRAME_BYTES - filled, chunk.byteLength - offset);
        pending.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === ZSTD_FRAME_BYTES) emit(controller);
      }
    },
    flush(controller) {
      // An empty body is still one (empty) frame: a body labelled zstd must decode.
      if (filled > 0 || frames === 0) emit(controller);
    },
  });
}
