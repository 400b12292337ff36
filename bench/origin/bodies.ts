/**
 * Bodies the bench origin serves, chosen by the key's extension: `.json` is a product catalogue
 * and `.html` a listing page (both generated from a fixed seed, so every run and every proxy sees
 * the same bytes, and varied enough that they compress like real pages rather than like one line
 * repeated); anything else is a repeated line of text.
 */

export type BodyKind = "text" | "json" | "html";

export const CONTENT_TYPES: Readonly<Record<BodyKind, string>> = {
  text: "text/plain; charset=utf-8",
  json: "application/json",
  html: "text/html; charset=utf-8",
};

const LINE = "brim bench origin: the quick brown fox jumps over the lazy dog 0123456789\n";
const WORDS = (
  "alpine amber anchor arctic aspen atlas aurora basalt beacon birch bison breeze cactus canyon cedar cinder citrus cobalt comet coral " +
  "cotton crater crystal delta desert dune echo ember falcon fern fjord flint forest glacier granite harbor hazel heron horizon indigo " +
  "island ivory jasper juniper kelp lagoon lantern lava linen lotus lunar maple marble meadow mesa mist monsoon moss nebula oasis ochre " +
  "onyx orchid pebble pine prairie quartz rain raven reef ridge river saffron sage sand shale sierra slate spruce summit tundra velvet willow"
).split(" ");
const CATEGORIES = ["outdoor", "kitchen", "garden", "office", "travel", "audio", "lighting", "storage"];

export function bodyKind(key: string): BodyKind {
  return key.endsWith(".json") ? "json" : key.endsWith(".html") ? "html" : "text";
}

/** About `bytes` long (JSON and HTML stop at the first whole item past it, so they stay valid). */
export function makeBody(kind: BodyKind, bytes: number): string {
  if (kind === "text") return LINE.repeat(Math.ceil(bytes / LINE.length)).slice(0, bytes);
  const random = mulberry32(0x5eed + bytes);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(" ");
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
  const product = (i: number) => ({
    id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    sku: `SKU-${100000 + i}`,
    name: words(3),
    category: pick(CATEGORIES),
    price: Math.round(random() * 50_000) / 100,
    currency: "EUR",
    stock: Math.floor(random() * 500),
    rating: Math.round(random() * 50) / 10,
    tags: Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(WORDS)),
    description: words(12 + Math.floor(random() * 20)),
    updatedAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 3e10)).toISOString(),
  });
  if (kind === "json") {
    const items: string[] = [];
    let size = 40;
    for (let i = 0; size < bytes; i++) {
      const item = JSON.stringify(product(i));
      items.push(item);
      size += item.length + 1;
    }
    return `{"page":1,"total":${items.length},"items":[${items.join(",")}]}`;
  }
  const head = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Catalogue</title><link rel="stylesheet" href="/s/site.css"></head>\n<body><nav class="top"><a href="/">Home</a> <a href="/c">Categories</a> <a href="/cart">Cart</a></nav>\n<main class="grid">\n`;
  const tail = `</main>\n<footer class="site-footer"><p>&copy; 2025 Bench Catalogue</p></footer></body></html>\n`;
  const cards: string[] = [];
  let size = head.length + tail.length;
  for (let i = 0; size < bytes; i++) {
    const p = product(i);
    const card =
      `<article class="card card--${p.category}" data-id="${p.id}" data-sku="${p.sku}">\n` +
      `  <a class="card__link" href="/p/${p.sku.toLowerCase()}"><img class="card__img" src="/img/${p.id}.webp" alt="${p.name}" loading="lazy" width="320" height="240"></a>\n` +
      `  <h2 class="card__title">${p.name}</h2>\n  <p class="card__desc">${p.description}</p>\n` +
      `  <p class="card__price"><span class="amount">${p.price.toFixed(2)}</span> <span class="currency">${p.currency}</span></p>\n` +
      `  <ul class="card__tags">${p.tags.map((t) => `<li>${t}</li>`).join("")}</ul>\n` +
      `  <button class="btn btn--primary" data-action="add-to-cart" data-sku="${p.sku}">Add to cart</button>\n</article>\n`;
    cards.push(card);
    size += card.length;
  }
  return head + cards.join("") + tail;
}

/** A small seeded PRNG: the same bodies in every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
