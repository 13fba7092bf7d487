// CORS in headless Chromium: a dashboard page served from another origin (another port)
// reads a report with a Bearer key, revalidates it with If-None-Match (304) and reads the
// exposed ETag and X-Request-Id; the same page served from an origin not in cors_origins is
// blocked by the browser.
//
// Needs READINESS_URL, READINESS_ANALYST_KEY and DASHBOARD_PORT, the port of the one origin
// (http://127.0.0.1:DASHBOARD_PORT) the server was started with in --cors-origins.
// CHROMIUM (default /usr/bin/chromium) names the browser.

import assert from "node:assert/strict";
import http from "node:http";

import { chromium } from "playwright-core";

const api = process.env.READINESS_URL;
const key = process.env.READINESS_ANALYST_KEY;
const allowedPort = Number(process.env.DASHBOARD_PORT);
if (!api || !key || !allowedPort) {
  throw new Error("READINESS_URL, READINESS_ANALYST_KEY and DASHBOARD_PORT must be set");
}

// The dashboard: one script that calls the API from the page's own origin.
const dashboard = `<!doctype html><meta charset="utf-8"><title>dashboard</title><script>
window.result = (async () => {
  try {
    const headers = { Authorization: "Bearer ${key}" };
    const url = "${api}/api/v1/reports/readiness?by=size_band";
    const first = await fetch(url, { headers, cache: "no-store" });
    const report = await first.json();
    const etag = first.headers.get("ETag");
    const again = await fetch(url, { headers: { ...headers, "If-None-Match": etag }, cache: "no-store" });
    return { status: first.status, survey: report.survey, etag, requestId: first.headers.get("X-Request-Id"),
             revalidated: again.status, revalidatedEtag: again.headers.get("ETag") };
  } catch (error) {
    return { error: String(error) };
  }
})();
</script>`;

function serve(port) {
  const server = http.createServer((request, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(dashboard);
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

const allowedServer = await serve(allowedPort);
const otherServer = await serve(0);
const otherPort = otherServer.address().port;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const context = await browser.newContext();
  const run = async (port) => {
    const page = await context.newPage();
    const consoleErrors = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = await page.evaluate(() => window.result);
    await page.close();
    return { result, consoleErrors };
  };

  const allowed = await run(allowedPort);
  assert.deepEqual(allowed.consoleErrors, [], "no console errors on the allowed origin");
  const { result } = allowed;
  assert.equal(result.error, undefined, `the allowed origin reads the report: ${result.error}`);
  assert.equal(result.status, 200);
  assert.equal(result.survey, "ai-readiness", "the page read the report's body");
  assert.match(result.etag ?? "", /^"[0-9a-f]{32}"$/, "ETag is exposed");
  assert.ok(result.requestId, "X-Request-Id is exposed");
  assert.equal(result.revalidated, 304, "If-None-Match revalidates to 304");
  assert.equal(result.revalidatedEtag, result.etag);
  console.log(`allowed origin :${allowedPort}: report of ${result.survey} read, ETag ${result.etag}, revalidated 304`);

  const blocked = await run(otherPort);
  assert.match(blocked.result.error ?? "", /TypeError/, "the browser blocks another origin");
  assert.ok(
    blocked.consoleErrors.some((text) => /CORS|Access-Control-Allow-Origin/.test(text)),
    `the browser names CORS: ${blocked.consoleErrors}`,
  );
  console.log(`origin :${otherPort} not on the list: blocked (${blocked.result.error})`);
} finally {
  await browser.close();
  allowedServer.close();
  otherServer.close();
}
