/** The runtime's floor: a Worker that answers every request with the same static body. */
const BODY_BYTES = 1024;
const BODY = "x".repeat(BODY_BYTES);
const HEADERS = { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=60" };

export default {
  fetch() {
    return new Response(BODY, { headers: HEADERS });
  },
} satisfies ExportedHandler;
