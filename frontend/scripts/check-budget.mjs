// The initial-JavaScript budget: what index.html makes the browser fetch before the first page
// runs (the entry module and the chunks it preloads), gzipped, must stay <= 150 KB.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 150;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)].map((m) => m[1]);
if (scripts.length === 0) {
  console.error("budget: no script in dist/index.html (run `npm run build` first)");
  process.exit(1);
}
let total = 0;
for (const src of new Set(scripts)) {
  const size = gzipSync(readFileSync(join(dist, src.replace(/^\//, "")))).length;
  total += size;
  console.log(`budget: ${src} ${(size / 1024).toFixed(1)} KB gzipped`);
}
const kb = total / 1024;
console.log(`budget: initial JavaScript ${kb.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`);
if (kb > BUDGET_KB) {
  console.error(`budget: over by ${(kb - BUDGET_KB).toFixed(1)} KB`);
  process.exit(1);
}
