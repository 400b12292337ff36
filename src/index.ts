import { Hono } from "hono";
const app = new Hono();
app.get("*", async (c) => {
  const origin = new URL(c.req.url).searchParams.get("o");
  if (origin) { const r = await fetch(origin); return new Response(await r.text()); }
  return c.text("hi");
});
export default app;
