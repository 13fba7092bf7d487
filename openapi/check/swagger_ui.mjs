// Swagger UI at /docs/ in headless Chromium: the operations list renders, and no request
// leaves 127.0.0.1 (the UI is served from the binary). Keeps a screenshot.
//
// Needs READINESS_URL. CHROMIUM (default /usr/bin/chromium) names the browser;
// SCREENSHOT (default swagger-ui.png) where the screenshot goes.

import assert from "node:assert/strict";

import { chromium } from "playwright-core";

const base = process.env.READINESS_URL;
if (!base) throw new Error("READINESS_URL is not set");
const origin = new URL(base).origin;
assert.equal(new URL(base).hostname, "127.0.0.1", "the server is checked on 127.0.0.1");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const outside = [];
const failed = [];
try {
  const page = await browser.newPage();
  // Every request is seen here, and any that would leave the machine is aborted and recorded.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith("data:") || url.startsWith("blob:")) {
      return route.continue();
    }
    outside.push(url);
    return route.abort();
  });
  page.on("requestfailed", (request) => failed.push(request.url()));
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));

  const response = await page.goto(`${base}/docs/`, { waitUntil: "networkidle" });
  assert.equal(response?.status(), 200, "GET /docs/");
  await page.waitForSelector(".opblock", { timeout: 20_000 });

  const operations = await page.$$eval(".opblock", (blocks) =>
    blocks.map((block) => {
      const method = block.querySelector(".opblock-summary-method")?.textContent?.trim();
      const path = block.querySelector(".opblock-summary-path")?.getAttribute("data-path");
      return `${method} ${path}`;
    }),
  );
  for (const expected of [
    "GET /api/v1/surveys",
    "POST /api/v1/surveys/{slug}/responses",
    "GET /api/v1/reports/readiness",
    "GET /api/v1/reports/trend",
    "GET /api/v1/reports/blockers",
    "POST /api/v1/keys",
    "GET /healthz",
  ]) {
    assert.ok(operations.includes(expected), `${expected} is listed; listed: ${operations.join(", ")}`);
  }
  const title = await page.textContent(".information-container .title");
  assert.match(title ?? "", /Readiness API/);
  const tags = await page.$$eval(".opblock-tag", (nodes) => nodes.map((n) => n.getAttribute("data-tag")));
  for (const tag of ["surveys", "responses", "reports", "keys"]) {
    assert.ok(tags.includes(tag), `tag ${tag} is shown`);
  }
  // The contract Swagger UI reads is the one the server serves.
  const spec = await page.evaluate(async () => (await fetch("/openapi.json")).json());
  assert.equal(Object.values(spec.paths).flatMap((item) => Object.keys(item)).length, operations.length);

  await page.screenshot({ path: process.env.SCREENSHOT ?? "swagger-ui.png", fullPage: true });
  assert.deepEqual(errors, [], "no script errors");
  console.log(`swagger ui: ${operations.length} operations rendered, ${outside.length} requests left 127.0.0.1`);
} finally {
  await browser.close();
}
assert.deepEqual(outside, [], "no request leaves 127.0.0.1");
assert.deepEqual(failed, [], "no request failed");
