// The HTML report page in headless Chromium, opened through a share link without a key:
// it loads with no console errors and no request besides the page itself, its charts are
// drawn, the headline is the JSON report's figure, and a 1280×900 screenshot is kept.
//
// Needs READINESS_URL and READINESS_ANALYST_KEY, and responses in the database (check_all.sh
// fills it with `readiness demo`). CHROMIUM (default /usr/bin/chromium) names the browser;
// SCREENSHOT (default report.png) where the 1280×900 screenshot goes; a full-page one is
// written beside it with `-full` in its name.

import assert from "node:assert/strict";

import { chromium } from "playwright-core";

const base = process.env.READINESS_URL;
const key = process.env.READINESS_ANALYST_KEY;
if (!base || !key) throw new Error("READINESS_URL and READINESS_ANALYST_KEY must be set");
const screenshot = process.env.SCREENSHOT ?? "report.png";
const query = "by=size_band";

const analyst = { Authorization: `Bearer ${key}` };
// Reports may be up to a refresh interval stale: wait until the demo firms are counted and
// two reports in a row agree, so the page and the JSON report see the same rows.
const minimumFirms = Number(process.env.MINIMUM_FIRMS ?? 5000);
let report = null;
for (let attempt = 0; attempt < 100; attempt += 1) {
  const latest = await (await fetch(`${base}/api/v1/reports/readiness?${query}`, { headers: analyst })).json();
  // Counts are perturbed by at most 2 (the default table), so "all of them" is within 2.
  if (report && latest.overall.n >= minimumFirms - 2 && latest.overall.n === report.overall.n) break;
  report = latest;
  await new Promise((resolve) => setTimeout(resolve, 300));
}
assert.ok(report.overall.n >= minimumFirms - 2, `the report counts the demo firms: ${report.overall.n}`);
const shared = await fetch(`${base}/api/v1/reports/share?${query}`, { method: "POST", headers: analyst });
assert.equal(shared.status, 201, "POST /api/v1/reports/share");
const { url } = await shared.json();
assert.match(url, /^\/api\/v1\/reports\/shared\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
const expectedShare = `${(report.overall.ready_to_customise.share * 100).toFixed(1)} %`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const requests = [];
const consoleErrors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("request", (request) => {
    if (!request.url().startsWith("data:")) requests.push(request.url());
  });
  // Nothing may leave for anywhere else; a request that tries is recorded above and aborted.
  await page.route("**/*", (route) =>
    route.request().url() === `${base}${url}` ? route.continue() : route.abort(),
  );
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));

  const response = await page.goto(`${base}${url}`, { waitUntil: "networkidle" });
  assert.equal(response?.status(), 200, "the shared page opens without a key");
  assert.equal(response.headers()["content-type"], "text/html; charset=utf-8");

  const charts = await page.$$eval("svg[data-chart]", (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      return {
        name: svg.getAttribute("data-chart"),
        width: box.width,
        height: box.height,
        shapes: svg.querySelectorAll("rect, path, polygon, polyline, circle").length,
      };
    }),
  );
  assert.ok(charts.length >= 3, `at least 3 charts; found ${charts.length}`);
  for (const name of ["tiers", "trend", "dimensions", "reference"]) {
    const chart = charts.find((c) => c.name === name);
    assert.ok(chart, `chart ${name} is present`);
    assert.ok(chart.width > 200 && chart.height > 100, `chart ${name} has a size: ${JSON.stringify(chart)}`);
    assert.ok(chart.shapes > 5, `chart ${name} draws something: ${JSON.stringify(chart)}`);
  }
  assert.ok(charts.some((c) => c.name.startsWith("blockers-")), "a blockers chart is present");

  const headline = (await page.textContent("[data-figure=ready]"))?.trim();
  assert.equal(headline, expectedShare, "the headline is the JSON report's share");
  assert.match((await page.textContent("#headline")) ?? "", /Stay on vendor models/);
  assert.match((await page.textContent("#disclosure")) ?? "", /Suppression rule/);
  assert.match((await page.textContent("header")) ?? "", /Read-only shared view/);

  await page.screenshot({ path: screenshot });
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-full.png"), fullPage: true });
  console.log(
    `report page: ${charts.length} charts (${charts.map((c) => c.name).join(", ")}), headline ${headline}, ` +
      `${requests.length} request(s), screenshot ${screenshot}`,
  );
} finally {
  await browser.close();
}
assert.deepEqual(consoleErrors, [], "no console errors");
assert.deepEqual(requests, [`${base}${url}`], "no request besides the page itself");
