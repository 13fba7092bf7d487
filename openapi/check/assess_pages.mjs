// The self-assessment pages (/assess/...) in headless Chromium, filled in by keyboard alone.
//
// For each language (en, zh-Hans) and viewport (360×740, 1280×900) the whole questionnaire is
// answered with Tab/Shift+Tab, arrow keys, Space, typing and Enter: the skip link leads into
// the form, one step is first sent incomplete and the error summary's link is followed to the
// field, one middle step is saved ("continue later"), the browser context is closed and the
// saved link opened in a new one (every answer so far is restored), and the result is
// compared with the API's for the same answers (tier, blockers, the least passing options).
// Submitting again (a second tab, and going back) lands on the same result and stores one row.
// Then: the same answers without JavaScript store the same response; an invitation with a
// segment skips the business step (5 steps); an altered draft link and an altered invitation
// get the same 404 page in the requested language; the pages' Content-Security-Policy blocks
// an injected script. axe-core (WCAG 2.0/2.1 A and AA) runs on every page, which is also kept
// as a full-page screenshot; no request leaves the origin and no console errors.
//
// axe needs a script in the page, which the pages' policy rightly forbids: the keyboard flows
// run in contexts created with `bypassCSP`, and one normal context shows that the policy holds.
//
// Needs READINESS_URL, READINESS_ANALYST_KEY and READINESS_COLLECTOR_KEY (server.sh sets
// them); READINESS_ADMIN_KEY, if set, makes the survey public when it is not. With fewer than
// PEERS (default 30) responses stored, that many peers are submitted first so the result pages
// show a benchmark. CHROMIUM (default /usr/bin/chromium) names the browser; ARTEFACTS (default
// assess-screenshots) where the screenshots go. Takes about 40 s.

import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import { chromium } from "playwright-core";

const started = Date.now();
const base = process.env.READINESS_URL;
const analystKey = process.env.READINESS_ANALYST_KEY;
const collectorKey = process.env.READINESS_COLLECTOR_KEY;
const adminKey = process.env.READINESS_ADMIN_KEY;
if (!base || !analystKey || !collectorKey) {
  throw new Error("READINESS_URL, READINESS_ANALYST_KEY and READINESS_COLLECTOR_KEY must be set");
}
const origin = new URL(base).origin;
const artefacts = process.env.ARTEFACTS ?? "assess-screenshots";
await mkdir(artefacts, { recursive: true });
const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const axeTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const slug = "ai-readiness";
const runId = Date.now().toString(36);

// ---------------------------------------------------------------------------------------------
// The API.

async function api(method, url, key, body) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${base}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: response.status, body: json };
}

/**
 * The stored responses after the position `after` (all of them without it), following the
 * cursors, and the position after the last: what is stored later is listed after it.
 */
async function storedRows(after = null) {
  const rows = [];
  for (;;) {
    const query = new URLSearchParams({ survey: slug, limit: "1000" });
    if (after) query.set("after", after);
    const { status, body } = await api("GET", `/api/v1/responses?${query}`, analystKey);
    assert.equal(status, 200, `GET /api/v1/responses: ${JSON.stringify(body)}`);
    rows.push(...body.responses);
    after = body.next_cursor;
    if (!body.has_more) return { rows, cursor: after };
  }
}

// The position after the last stored response, kept up to date so a flow lists only the
// rows stored since it began (there may be thousands before, e.g. after `readiness demo`).
let position = null;
async function currentPosition() {
  position = (await storedRows(position)).cursor;
  return position;
}

/** The rows stored since `since` (a position from `currentPosition`). */
async function newRows(since) {
  return (await storedRows(since)).rows;
}

async function plan(id, lang) {
  const { status, body } = await api("GET", `/api/v1/responses/${id}/plan?lang=${lang}`, analystKey);
  assert.equal(status, 200, `GET /api/v1/responses/${id}/plan: ${JSON.stringify(body)}`);
  return body;
}

// The survey must be open to anyone for the start page; an admin key can make it so.
let survey = await api("GET", `/api/v1/surveys/${slug}`, analystKey);
assert.equal(survey.status, 200, `GET /api/v1/surveys/${slug}`);
if (!survey.body.public && adminKey) {
  const patched = await api("PATCH", `/api/v1/surveys/${slug}/versions/${survey.body.version}`, adminKey, {
    public: true,
  });
  assert.equal(patched.status, 200, `PATCH the survey public: ${JSON.stringify(patched.body)}`);
  survey = await api("GET", `/api/v1/surveys/${slug}`, analystKey);
}
assert.ok(survey.body.public, "the survey is public (run `readiness demo` or PATCH it with an admin key)");
const instrument = survey.body.definition;
const questions = instrument.questions.map((q) => ({
  key: q.key,
  section: q.section,
  options: q.options.map((o) => o.key),
}));
const sections = instrument.sections.map((s) => s.key);
const sectionQuestions = (section) => questions.filter((q) => q.section === section);
assert.ok(questions.length >= 10 && sections.length >= 3, "the instrument has questions and sections");

// Answers: a seeded choice per question, pushed up by `shift` options, so the flows end in
// different tiers with different blockers.
function answersFor(seed, shift) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const answers = {};
  for (const q of questions) {
    answers[q.key] = q.options[Math.min(q.options.length - 1, Math.floor(random() * q.options.length) + shift)];
  }
  return answers;
}

// Peers for the benchmark section: without them the result page only says there are too few.
const peersWanted = Number(process.env.PEERS ?? 30);
const { rows: existing, cursor: first } = await storedRows();
position = first;
if (existing.length < peersWanted) {
  const segments = [
    { industry: "C", size_band: "small", country: "DE" },
    { industry: "J", size_band: "micro", country: "FR" },
    { industry: "G", size_band: "medium", country: "CN" },
  ];
  const items = Array.from({ length: peersWanted }, (_, i) => ({
    firm: { ref: `assess-check-peer-${runId}-${i}`, ...segments[i % segments.length] },
    answers: answersFor(1000 + i, i % 3),
  }));
  const batch = await api("POST", `/api/v1/surveys/${slug}/responses/batch`, collectorKey, { responses: items });
  assert.ok([200, 201, 207].includes(batch.status), `the peers are stored: ${JSON.stringify(batch.body)}`);
}

// ---------------------------------------------------------------------------------------------
// The browser: every context routes its requests (nothing may leave the origin) and every
// page's console errors are kept.

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const outside = []; // requests that tried to leave the origin
const consoleErrors = []; // { url, text, where }
const errorDocuments = new Set(); // main-frame documents answered 4xx (422 / 404, asserted where they occur)
const axeResults = []; // { page, passes, violations, incomplete }
const problems = []; // accessibility and layout failures, reported together at the end
const undecided = new Map(); // what axe could not decide ("incomplete") → the pages
let screenshots = 0;

async function newContext(options, { watchConsole = true } = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(20_000);
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith("data:")) return route.continue();
    outside.push(url);
    return route.abort();
  });
  context.on("response", (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && response.status() >= 400) errorDocuments.add(response.url());
  });
  if (watchConsole) {
    context.on("page", (page) => {
      page.on("console", (message) => {
        if (message.type() === "error") {
          consoleErrors.push({ url: message.location().url, text: message.text(), where: page.url() });
        }
      });
      page.on("pageerror", (error) => consoleErrors.push({ url: page.url(), text: String(error), where: page.url() }));
    });
  }
  return context;
}

const viewports = {
  narrow: { width: 360, height: 740 },
  wide: { width: 1280, height: 900 },
};

/** Screenshot, axe and reflow check of the page as it is now, as `flow`'s page `label`. */
async function inspect(page, flow, label) {
  flow.shots += 1;
  const name = `${flow.name}-${String(flow.shots).padStart(2, "0")}-${label}`;
  await page.screenshot({ path: path.join(artefacts, `${name}.png`), fullPage: true });
  screenshots += 1;
  if (flow.javaScript === false) return;
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return {
      passes: r.passes.length,
      incomplete: r.incomplete.map((rule) => rule.id),
      undecided: r.incomplete.flatMap((rule) =>
        rule.nodes.map((node) => ({
          rule: rule.id,
          target: node.target.join(" "),
          why: [...node.any, ...node.all, ...node.none].map((c) => c.message).join("; "),
        })),
      ),
      violations: r.violations.map((rule) => ({
        id: rule.id,
        impact: rule.impact,
        help: rule.help,
        nodes: rule.nodes.map((node) => ({
          target: node.target.join(" "),
          html: node.html.slice(0, 240),
          summary: node.failureSummary,
        })),
      })),
    };
  }, axeTags);
  const overflow = await page.evaluate(() => {
    const root = document.documentElement;
    return root.scrollWidth > root.clientWidth ? `${root.scrollWidth} > ${root.clientWidth}` : null;
  });
  axeResults.push({ page: name, ...result });
  for (const u of result.undecided) {
    const key = `${u.rule} ${u.target}: ${u.why}`;
    undecided.set(key, [...(undecided.get(key) ?? []), name]);
  }
  const incomplete = result.incomplete.length ? ` (incomplete: ${result.incomplete.join(", ")})` : "";
  console.log(`  axe ${name}: ${result.passes} passes, ${result.violations.length} violations${incomplete}`);
  for (const violation of result.violations) {
    for (const node of violation.nodes) {
      const text = `${name} (${page.url()}): axe ${violation.id} [${violation.impact}] ${violation.help}: ${node.target}: ${node.html}\n      ${node.summary?.replaceAll("\n", "\n      ")}`;
      problems.push(text);
      console.log(`    VIOLATION ${text}`);
    }
  }
  if (overflow) {
    const text = `${name} (${page.url()}): the page scrolls sideways (scrollWidth ${overflow})`;
    problems.push(text);
    console.log(`    REFLOW ${text}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Keyboard helpers. `page.evaluate` only reads where the focus is; everything the page receives
// is a key press.

function describeFocus(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "(body)";
    const attrs = ["id", "name", "value", "class", "href"]
      .map((a) => (el.getAttribute(a) !== null ? `${a}=${el.getAttribute(a)}` : null))
      .filter(Boolean)
      .join(" ");
    return `<${el.tagName.toLowerCase()} ${attrs}>`;
  });
}

function focusMatches(page, selector) {
  return page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector);
}

/** Presses `key` once and expects the focus on `selector`. */
async function press(page, key, selector) {
  await page.keyboard.press(key);
  if (!(await focusMatches(page, selector))) {
    assert.fail(`after ${key} the focus is on ${await describeFocus(page)}, not ${selector} (${page.url()})`);
  }
}

/** Presses Tab (or Shift+Tab) until the focus is on `selector`. */
async function tabTo(page, selector, { backwards = false, limit = 60 } = {}) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press(backwards ? "Shift+Tab" : "Tab");
    if (await focusMatches(page, selector)) return;
  }
  assert.fail(`${selector} is not reached by ${backwards ? "Shift+Tab" : "Tab"} (${page.url()})`);
}

/** From a fresh page: Tab to the skip link, which shows on focus, follow it, Tab into main. */
async function skipToMain(page) {
  await press(page, "Tab", "a.skip");
  const box = await page.evaluate(() => document.activeElement.getBoundingClientRect().toJSON());
  assert.ok(box.left >= 0 && box.width > 0, `the focused skip link is on screen: ${JSON.stringify(box)}`);
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  assert.ok(
    await page.evaluate(() => document.querySelector("main").contains(document.activeElement)),
    `the skip link leads into main: ${await describeFocus(page)}`,
  );
}

/** With the focus in radio group `name`, checks the one of value `value` by arrow keys/Space. */
async function chooseRadio(page, name, value) {
  const state = await page.evaluate(() => {
    const el = document.activeElement;
    const group = [...document.querySelectorAll(`input[type=radio][name="${CSS.escape(el.name)}"]`)];
    return { name: el.name, index: group.indexOf(el), checked: el.checked, values: group.map((r) => r.value) };
  });
  assert.equal(state.name, name, `the focus is in group ${name}`);
  const to = state.values.indexOf(value);
  assert.ok(to >= 0, `${value} is an option of ${name}`);
  if (to === state.index) {
    if (!state.checked) await page.keyboard.press("Space");
  } else {
    const key = to > state.index ? "ArrowDown" : "ArrowUp";
    for (let i = 0; i < Math.abs(to - state.index); i += 1) await page.keyboard.press(key);
  }
  const checked = await page.evaluate(
    (n) => document.querySelector(`input[type=radio][name="${CSS.escape(n)}"]:checked`)?.value ?? null,
    name,
  );
  assert.equal(checked, value, `${name} is answered ${value} by keyboard`);
}

/** With the focus on select `id`, picks `value` with the arrow keys. */
async function chooseByArrows(page, id, value) {
  const { from, to } = await page.evaluate(
    ([i, v]) => {
      const select = document.getElementById(i);
      return { from: select.selectedIndex, to: [...select.options].findIndex((o) => o.value === v) };
    },
    [id, value],
  );
  assert.ok(to >= 0, `${value} is an option of #${id}`);
  const key = to > from ? "ArrowDown" : "ArrowUp";
  for (let i = 0; i < Math.abs(to - from); i += 1) await page.keyboard.press(key);
  assert.equal(await page.inputValue(`#${id}`), value, `#${id} is ${value} by arrow keys`);
}

/** With the focus on select `id`, picks `value` by typing the start of its label. */
async function chooseByTyping(page, id, value) {
  const label = await page.$eval(`#${id} option[value="${value}"]`, (o) => o.textContent);
  await page.keyboard.type(label.replace(/\s*\([A-Z]{2}\)$/, ""));
  assert.equal(await page.inputValue(`#${id}`), value, `#${id} is ${value} by typing "${label}"`);
}

/** Presses Enter (on a button) and waits for the page it leads to; returns its response. */
async function submit(page) {
  const [response] = await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  assert.ok(response, `Enter on ${await describeFocus(page)} loads a page`);
  return response;
}

/** The POST a response was redirected from (303), if any. */
function redirectStatus(response) {
  return response.request().redirectedFrom()?.response().then((r) => r?.status()) ?? Promise.resolve(null);
}

const pathOf = (page) => {
  const url = new URL(page.url());
  return `${url.pathname}${url.search}`;
};

async function progress(page) {
  return page.$eval("progress", (p) => ({ max: p.getAttribute("max"), value: p.getAttribute("value") }));
}

async function checkedAnswers(page) {
  return page.$$eval("input[type=radio]:checked", (radios) =>
    Object.fromEntries(radios.map((r) => [r.name.replace(/^q\./, ""), r.value])),
  );
}

const pick = (answers, keys) => Object.fromEntries(keys.map((k) => [k, answers[k]]));

// ---------------------------------------------------------------------------------------------
// Filling the steps by keyboard.

/** The segment step, from a freshly loaded page; `skipIndustry` leaves the industry empty. */
async function fillSegment(page, segment, { skipIndustry = false } = {}) {
  await skipToMain(page);
  assert.ok(await focusMatches(page, "#industry"), `the first field is the industry: ${await describeFocus(page)}`);
  if (!skipIndustry) await chooseByArrows(page, "industry", segment.industry);
  await press(page, "Tab", "input[name=size_band]");
  await chooseRadio(page, "size_band", segment.size_band);
  await press(page, "Tab", "#country");
  await chooseByTyping(page, "country", segment.country);
  await press(page, "Tab", "#region");
  if (segment.region) await page.keyboard.type(segment.region);
  await press(page, "Tab", "button.primary");
}

/** A section step from top to bottom, from a freshly loaded page; ends on the primary button. */
async function fillSectionDown(page, keys, answers) {
  await skipToMain(page);
  for (const [i, key] of keys.entries()) {
    if (i > 0) await press(page, "Tab", `input[name="q.${key}"]`);
    assert.ok(await focusMatches(page, `input[name="q.${key}"]`), `focus on ${key}: ${await describeFocus(page)}`);
    await chooseRadio(page, `q.${key}`, answers[key]);
  }
  await press(page, "Tab", "button.primary");
}

/**
 * A section step from the bottom up with Shift+Tab, leaving `skip` unanswered; ends on the
 * primary button.
 */
async function fillSectionUp(page, keys, answers, skip) {
  await skipToMain(page);
  for (const key of keys.slice(1)) await press(page, "Tab", `input[name="q.${key}"]`);
  await press(page, "Tab", "button.primary");
  for (const key of [...keys].reverse()) {
    await press(page, "Shift+Tab", `input[name="q.${key}"]`);
    if (key !== skip) await chooseRadio(page, `q.${key}`, answers[key]);
  }
  await tabTo(page, "button.primary");
}

/** On a page showing the error summary: follows its link to `target` by keyboard. */
async function followErrorLink(page, target) {
  await skipToMain(page);
  assert.ok(
    await focusMatches(page, `.error-summary a[href="#${target}"]`),
    `the first stop in main is the error summary's link to #${target}: ${await describeFocus(page)}`,
  );
  await page.keyboard.press("Enter");
  await page.waitForFunction((t) => document.activeElement?.id === t, target, { timeout: 5_000 }).catch(() => {});
  assert.equal(
    await page.evaluate(() => document.activeElement?.id),
    target,
    `Enter on the summary's link moves the focus to #${target}`,
  );
}

async function checkErrorState(page, response, fields, lang) {
  assert.equal(response.status(), 422, "an incomplete step is answered 422");
  assert.equal(await page.getAttribute("html", "lang"), lang);
  const summary = await page.$$eval(".error-summary[role=alert] a", (links) =>
    links.map((a) => ({ href: a.getAttribute("href"), text: a.textContent.trim() })),
  );
  assert.deepEqual(
    summary.map((s) => s.href),
    fields.map((f) => `#${f.target}`),
    "the error summary links each missing field",
  );
  for (const [i, f] of fields.entries()) {
    const field = await page.$eval(f.container, (el) => {
      const invalid = el.matches("[aria-invalid=true]") ? el : el.querySelector("[aria-invalid=true]");
      const message = el.querySelector("p.error");
      const described = invalid?.getAttribute("aria-describedby") ?? "";
      return {
        invalid: Boolean(invalid),
        message: message?.textContent.trim() ?? null,
        describedByMessage: Boolean(message && described.split(/\s+/).includes(message.id)),
      };
    });
    assert.ok(field.invalid, `${f.container} has aria-invalid`);
    assert.equal(field.message, summary[i].text, `${f.container} shows the summary's message`);
    assert.ok(field.describedByMessage, `${f.container} is described by its message`);
  }
}

// ---------------------------------------------------------------------------------------------
// One questionnaire by keyboard.

const draftPath = /^\/assess\/drafts\/([A-Za-z0-9_-]{43})\?step=(\d+)$/;

async function keyboardFlow(flow) {
  const t0 = Date.now();
  flow.shots = 0;
  const before = await currentPosition();
  const { lang, answers } = flow;
  let context = await newContext({ viewport: flow.viewport, bypassCSP: true });
  let page = await context.newPage();
  const steps = flow.invitation ? sections.length : sections.length + 1;
  const sectionAt = (step) => sections[flow.invitation ? step - 1 : step - 2]; // 1-based
  const given = new Set(); // questions answered so far

  // The start page.
  const startUrl = flow.invitation ? `${base}${flow.invitation}&lang=${lang}` : `${base}/assess/${slug}?lang=${lang}`;
  let response = await page.goto(startUrl);
  assert.equal(response.status(), 200, `GET ${startUrl}`);
  assert.equal(response.headers()["content-type"], "text/html; charset=utf-8");
  assert.match(response.headers()["content-security-policy"] ?? "", /^default-src 'none'; style-src 'sha256-/);
  assert.equal(await page.getAttribute("html", "lang"), lang);
  assert.deepEqual(await progress(page), { max: String(steps), value: "1" }, "the start page is step 1");
  assert.match(await page.textContent("#progress"), new RegExp(`1\\D+${steps}`), "the progress line says 1 of N");
  assert.equal(await page.$$eval("#progress, progress[aria-labelledby=progress]", (e) => e.length), 2);
  if (flow.invitation) {
    assert.equal(await page.$("#industry"), null, "an invitation with a segment skips the business step");
    assert.equal(await page.$("input[name=size_band]"), null);
  } else {
    assert.equal(await page.$$eval("#industry option", (o) => o.length), 22, "21 NACE sections and a prompt");
  }
  await inspect(page, flow, "start");

  if (flow.invitation) {
    const keys = sectionQuestions(sectionAt(1)).map((q) => q.key);
    await fillSectionDown(page, keys, answers);
    keys.forEach((k) => given.add(k));
  } else if (flow.errorStep === 1) {
    await fillSegment(page, flow.segment, { skipIndustry: true });
    response = await submit(page);
    await checkErrorState(page, response, [{ target: "industry", container: ".field:has(#industry)" }], lang);
    assert.equal(await page.inputValue("#country"), flow.segment.country, "the refused page keeps the country");
    await inspect(page, flow, "start-error");
    await followErrorLink(page, "industry");
    await chooseByArrows(page, "industry", flow.segment.industry);
    await tabTo(page, "button.primary");
  } else {
    await fillSegment(page, flow.segment);
  }
  response = await submit(page);
  assert.equal(await redirectStatus(response), 303, "the start page's post is answered 303");
  const opened = draftPath.exec(pathOf(page));
  assert.ok(opened && opened[2] === "2", `the draft opens at step 2: ${page.url()}`);
  const token = opened[1];
  flow.token = token;
  const draftUrl = `${base}/assess/drafts/${token}`;

  let step = 2;
  let resumed = false;
  while (step <= steps) {
    const section = sectionAt(step);
    const keys = sectionQuestions(section).map((q) => q.key);
    assert.deepEqual(await progress(page), { max: String(steps), value: String(step) }, `step ${step}`);
    assert.equal(await page.getAttribute("html", "lang"), lang);
    assert.deepEqual(
      await page.$$eval("fieldset.question", (f) => f.map((e) => e.id)),
      keys.map((k) => `field-${k}`),
      `step ${step} asks section ${section}`,
    );
    const last = step === steps;
    const primary = last ? "submit" : "next";
    assert.deepEqual(
      await page.$$eval("form button", (b) => b.map((e) => e.value)),
      [primary, "back", "save"],
      "the buttons: primary, back, save",
    );
    if (!resumed) await inspect(page, flow, `step${step}`);
    resumed = false;

    if (flow.errorStep === step) {
      // Shift+Tab from the button up through the questions, leaving the first unanswered.
      await fillSectionUp(page, keys, answers, keys[0]);
      response = await submit(page);
      await checkErrorState(page, response, [{ target: `q-${keys[0]}-0`, container: `#field-${keys[0]}` }], lang);
      assert.deepEqual(
        await checkedAnswers(page),
        pick(answers, keys.slice(1)),
        "the refused step keeps the answers given",
      );
      assert.deepEqual(await progress(page), { max: String(steps), value: String(step) }, "the same step again");
      await inspect(page, flow, `step${step}-error`);
      await followErrorLink(page, `q-${keys[0]}-0`);
      await chooseRadio(page, `q.${keys[0]}`, answers[keys[0]]);
      await tabTo(page, "button.primary");
    } else {
      await fillSectionDown(page, keys, answers);
    }
    keys.forEach((k) => given.add(k));

    if (flow.saveStep === step) {
      // Save and continue later, then come back in a new browser context.
      await press(page, "Tab", "button[value=back]");
      await press(page, "Tab", "button[value=save]");
      response = await submit(page);
      assert.equal(await redirectStatus(response), 303);
      assert.equal(pathOf(page), `/assess/drafts/${token}/saved`);
      assert.equal(await page.getAttribute("html", "lang"), lang);
      const link = (await page.textContent("#resume-link")).trim();
      assert.equal(link, draftUrl, "the saved page shows the full link");
      await inspect(page, flow, `step${step}-saved`);
      await context.close();

      context = await newContext({ viewport: flow.viewport, bypassCSP: true });
      page = await context.newPage();
      response = await page.goto(link);
      assert.equal(response.status(), 200, "the saved link opens in a new context");
      assert.equal(await page.getAttribute("html", "lang"), lang, "the draft keeps its language");
      assert.deepEqual(
        await progress(page),
        { max: String(steps), value: String(step + 1) },
        "the link opens at the first unanswered step",
      );
      await inspect(page, flow, `resume-step${step + 1}`);
      // Every answer given so far is there, on its step.
      const check = await context.newPage();
      for (let s = 1; s <= step; s += 1) {
        await check.goto(`${draftUrl}?step=${s}`);
        if (!flow.invitation && s === 1) {
          assert.equal(await check.inputValue("#industry"), flow.segment.industry, "industry restored");
          assert.equal(await check.inputValue("#country"), flow.segment.country, "country restored");
          assert.equal(await check.inputValue("#region"), flow.segment.region, "region restored");
          assert.deepEqual(await checkedAnswers(check), { size_band: flow.segment.size_band }, "size restored");
        } else {
          const stepKeys = sectionQuestions(sectionAt(s)).map((q) => q.key);
          assert.deepEqual(await checkedAnswers(check), pick(answers, stepKeys), `step ${s} restored`);
        }
      }
      await check.close();
      step += 1;
      resumed = true;
      continue;
    }

    if (!last) {
      response = await submit(page);
      assert.equal(await redirectStatus(response), 303);
      assert.equal(pathOf(page), `/assess/drafts/${token}?step=${step + 1}`);
      step += 1;
      continue;
    }

    // The last step: a second tab holds the same form, to submit it twice.
    const second = await context.newPage();
    await second.goto(`${draftUrl}?step=${step}`);
    // This step's answers are only saved when it is posted (those given before an error on it were).
    const saved = flow.errorStep === step ? keys.slice(1) : [];
    assert.deepEqual(await checkedAnswers(second), pick(answers, saved), "the second tab shows the saved answers");
    response = await submit(page);
    assert.equal(await redirectStatus(response), 303);
    assert.equal(pathOf(page), `/assess/drafts/${token}/result`, "submit leads to the result");
    await tabTo(second, "button[value=submit]");
    await submit(second);
    assert.equal(pathOf(second), `/assess/drafts/${token}/result`, "the form submitted again leads to the same result");
    await second.close();
    break;
  }
  assert.equal(given.size, questions.length, "every question was answered");

  // The result page.
  assert.equal(await page.getAttribute("html", "lang"), lang);
  await inspect(page, flow, "result");
  const shown = await resultOf(page);

  // Back to the last step and submit again: the same result, nothing stored twice.
  response = await page.goBack();
  let back = "the server sends the submitted draft's step to its result";
  if (pathOf(page) !== `/assess/drafts/${token}/result`) {
    assert.equal(pathOf(page), `/assess/drafts/${token}?step=${steps}`, `back from the result: ${page.url()}`);
    await tabTo(page, "button[value=submit]");
    await submit(page);
    back = "the last step was shown again and submitted again";
  }
  assert.equal(pathOf(page), `/assess/drafts/${token}/result`, "back and submit again: the same result");
  assert.deepEqual(await resultOf(page), shown, "the same result after submitting again");
  const rows = await newRows(before);
  assert.equal(rows.length, 1, `one flow stores one row, however often it is submitted (${rows.length})`);
  const [row] = rows;
  await context.close();
  await compareWithApi(flow, row, shown);
  console.log(
    `${flow.name}: ${steps} steps by keyboard, error on step ${flow.errorStep ?? "-"}, saved on step ` +
      `${flow.saveStep ?? "-"}; tier ${row.tier}, blockers ${row.blockers.join(" ") || "none"}, ` +
      `${shown.steps.reduce((n, s) => n + s.alternatives.length, 0)} data-least, peer group ${shown.group ?? "none"}; ` +
      `double submit stored one row ` +
      `(going back: ${back}); ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return row;
}

/** What the result page shows. */
async function resultOf(page) {
  return page.evaluate(() => ({
    tier: document.querySelector("p.tier")?.textContent.trim() ?? null,
    steps: [...document.querySelectorAll("section.plan-step")].map((section) => ({
      gate: section.dataset.gate,
      reason: section.querySelector("h3")?.textContent.trim(),
      alternatives: [...section.querySelectorAll("dl.answers")].map((dl) => ({
        question: dl.dataset.question,
        least: dl.dataset.least,
        leastLabel: dl.querySelectorAll("dd")[1]?.textContent.trim(),
      })),
    })),
    chart: (() => {
      const svg = document.querySelector("svg[data-chart=scores]");
      const box = svg?.getBoundingClientRect();
      if (!svg) return null;
      const scores = [...svg.querySelectorAll("text")]
        .map((t) => t.textContent.trim())
        .filter((t) => /^\d+$/.test(t))
        .map(Number);
      return { rects: svg.querySelectorAll("rect").length, drawn: box.width > 200 && box.height > 100, scores };
    })(),
    group: document.querySelector("[data-group]")?.dataset.group ?? null,
  }));
}

/** The result page and the stored row against the API's answer to the same answers. */
async function compareWithApi(flow, row, shown) {
  // The web response's own plan first: the API's twin below is one more peer for it.
  const webPlan = await plan(row.id, flow.lang);
  const firm = { ref: `assess-check-api-${flow.name}-${runId}`, ...flow.segment };
  if (!firm.region) delete firm.region;
  const submitted = await api("POST", `/api/v1/surveys/${slug}/responses?lang=${flow.lang}`, collectorKey, {
    firm,
    answers: flow.answers,
  });
  assert.equal(submitted.status, 201, `POST responses: ${JSON.stringify(submitted.body)}`);
  const apiPlan = await plan(submitted.body.id, flow.lang);
  const gates = apiPlan.steps.map((s) => s.gate);

  assert.deepEqual(row.answers, flow.answers, "the stored answers are the ones given");
  assert.equal(row.firm.industry, flow.segment.industry);
  assert.equal(row.firm.size_band, flow.segment.size_band);
  assert.equal(row.firm.country, flow.segment.country);
  assert.equal(row.firm.region ?? "", flow.segment.region ?? "");
  assert.equal(apiPlan.assessment.tier.key, submitted.body.tier.key);
  assert.equal(row.tier, submitted.body.tier.key, "the page's response has the API's tier");
  assert.deepEqual(row.blockers, submitted.body.blockers.map((b) => b.gate), "and its blockers");
  assert.deepEqual(gates, submitted.body.blockers.map((b) => b.gate), "the plan has a step per blocker");
  assert.equal(shown.tier, apiPlan.assessment.tier.label, `the page shows the API's tier label (${flow.lang})`);
  assert.deepEqual(
    shown.steps.map((s) => s.gate),
    gates,
    "the page's plan steps (data-gate) are the API's",
  );
  assert.deepEqual(
    shown.steps,
    apiPlan.steps.map((s) => ({
      gate: s.gate,
      reason: s.reason,
      alternatives: s.alternatives.map((a) => ({ question: a.question, least: a.least.key, leastLabel: a.least.label })),
    })),
    "each step's questions and least passing options (data-least) are the API's",
  );
  assert.deepEqual(webPlan.steps.map((s) => s.gate), gates);
  assert.ok(shown.chart?.drawn && shown.chart.rects === 2 * sections.length, `the scores chart: ${JSON.stringify(shown.chart)}`);
  const scores = sections.map((key) => apiPlan.assessment.dimension_scores[key]);
  assert.ok(
    shown.chart.scores.length === scores.length && shown.chart.scores.every((v, i) => Math.abs(v - scores[i]) <= 0.5),
    `the chart's scores ${shown.chart.scores} are the API's ${scores}`,
  );
  assert.equal(shown.group, webPlan.benchmark?.group ?? null, "the benchmark's peer group is the plan's");
  flow.apiTier = submitted.body.tier.key;
}

// ---------------------------------------------------------------------------------------------
// The flows. The seeds are chosen so the results differ: vendor_rag with six blockers (one of
// them with two alternatives), vendor_prompting with four, vendor_rag with seven, the top tier
// (no plan), and (the invitation) fine_tune with one.

const flows = [
  {
    name: "en-360",
    lang: "en",
    viewport: viewports.narrow,
    answers: answersFor(85, 0),
    segment: { industry: "C", size_band: "small", country: "DE", region: "DE-BY" },
    errorStep: 3,
    saveStep: 4,
  },
  {
    name: "en-1280",
    lang: "en",
    viewport: viewports.wide,
    answers: answersFor(22, 0),
    segment: { industry: "J", size_band: "micro", country: "FR", region: "" },
    errorStep: 5,
    saveStep: 3,
  },
  {
    name: "zh-Hans-360",
    lang: "zh-Hans",
    viewport: viewports.narrow,
    answers: answersFor(7, 0),
    segment: { industry: "G", size_band: "medium", country: "CN", region: "CN-GD" },
    errorStep: 2,
    saveStep: 5,
  },
  {
    name: "zh-Hans-1280",
    lang: "zh-Hans",
    viewport: viewports.wide,
    answers: answersFor(11, 2),
    segment: { industry: "M", size_band: "large", country: "JP", region: "" },
    errorStep: 1,
    saveStep: 2,
  },
];

const rows = {};
let tamperedDraft = null;
let invitationUrl = null;
try {
  for (const flow of flows) rows[flow.name] = await keyboardFlow(flow);
  tamperedDraft = flows[0].token;

  // An invitation with a segment: no business step, five steps, by keyboard.
  const invitedRef = `assess-check-invited-${runId}`;
  const invited = await api("POST", "/api/v1/invitations", collectorKey, {
    survey: slug,
    firm_ref: invitedRef,
    segment: { industry: "C", size_band: "small", country: "DE" },
  });
  assert.equal(invited.status, 201, `POST /api/v1/invitations: ${JSON.stringify(invited.body)}`);
  invitationUrl = invited.body.url;
  assert.match(invitationUrl, /^\/assess\/ai-readiness\?invitation=[^&]+$/);
  const invitedFlow = {
    name: "invited-zh-Hans-360",
    lang: "zh-Hans",
    viewport: viewports.narrow,
    answers: answersFor(15, 3),
    segment: { industry: "C", size_band: "small", country: "DE", region: "" },
    invitation: invitationUrl,
    saveStep: 3,
  };
  const invitedRow = await keyboardFlow(invitedFlow);
  assert.equal(invitedRow.firm.ref, invitedRef, "the invited response is stored under the invitation's firm");
  flows.push(invitedFlow);
  rows[invitedFlow.name] = invitedRow;

  // Without JavaScript: the same answers as en-1280, by `selectOption`/`check`/`click`.
  {
    const t0 = Date.now();
    const model = flows[1];
    const flow = { ...model, name: "nojs-en-1280", javaScript: false, shots: 0 };
    const before = await currentPosition();
    const context = await newContext({ viewport: flow.viewport, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/assess/${slug}?lang=en`);
    await inspect(page, flow, "start");
    await page.selectOption("#industry", flow.segment.industry);
    await page.check(`input[name=size_band][value=${flow.segment.size_band}]`);
    await page.selectOption("#country", flow.segment.country);
    await page.fill("#region", flow.segment.region);
    await Promise.all([page.waitForNavigation(), page.click("button[value=next]")]);
    for (const [i, section] of sections.entries()) {
      assert.match(pathOf(page), draftPath, `step ${i + 2} without JavaScript`);
      for (const q of sectionQuestions(section)) {
        await page.check(`input[name="q.${q.key}"][value="${flow.answers[q.key]}"]`);
      }
      await inspect(page, flow, `step${i + 2}`);
      await Promise.all([page.waitForNavigation(), page.click("button.primary")]);
    }
    assert.match(pathOf(page), /^\/assess\/drafts\/[A-Za-z0-9_-]{43}\/result$/, "the result without JavaScript");
    await inspect(page, flow, "result");
    const stored = await newRows(before);
    assert.equal(stored.length, 1, "one row without JavaScript");
    assert.deepEqual(stored[0].answers, flow.answers, "without JavaScript the stored answers are the ones given");
    assert.equal(stored[0].tier, rows[model.name].tier, "and the tier is the keyboard flow's");
    assert.deepEqual(stored[0].blockers, rows[model.name].blockers, "and so are the blockers");
    assert.deepEqual(
      { ...stored[0].firm, ref: undefined, region: stored[0].firm.region ?? "" },
      { ...rows[model.name].firm, ref: undefined, region: rows[model.name].firm.region ?? "" },
      "and the segment",
    );
    await context.close();
    console.log(
      `${flow.name}: stored the same response as ${model.name} (tier ${stored[0].tier}); ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }

  // Altered links: a draft token and an invitation with one character changed get the same
  // 404 page, in the language asked for.
  {
    const flow = { name: "tampered", shots: 0 };
    const alter = (text, at) => `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
    const badDraft = alter(tamperedDraft, 20);
    const invitationToken = new URL(invitationUrl, base).searchParams.get("invitation");
    const badInvitation = alter(invitationToken, Math.floor(invitationToken.length / 2));
    const context = await newContext({ viewport: viewports.wide, bypassCSP: true });
    const page = await context.newPage();
    const headings = {};
    for (const lang of ["en", "zh-Hans"]) {
      const seen = [];
      for (const [what, url] of [
        ["draft", `${base}/assess/drafts/${badDraft}?lang=${lang}`],
        ["draft-result", `${base}/assess/drafts/${badDraft}/result?lang=${lang}`],
        ["invitation", `${base}/assess/${slug}?invitation=${encodeURIComponent(badInvitation)}&lang=${lang}`],
      ]) {
        const response = await page.goto(url);
        assert.equal(response.status(), 404, `an altered ${what} link is 404 (${url})`);
        assert.equal(await page.getAttribute("html", "lang"), lang, `the 404 page of the ${what} is in ${lang}`);
        seen.push((await page.textContent("h1")).trim());
        await inspect(page, flow, `${what}-${lang}`);
      }
      assert.equal(new Set(seen).size, 1, `the same 404 page for a draft and an invitation (${lang}): ${seen}`);
      headings[lang] = seen[0];
    }
    assert.notEqual(headings.en, headings["zh-Hans"], "the 404 page is translated");
    await context.close();
    console.log(`altered links: 404 "${headings.en}" / "${headings["zh-Hans"]}"`);
  }

  // The Content-Security-Policy is in force: an injected script does not run, the inline
  // style (allowed by its hash) applies.
  {
    const context = await newContext({ viewport: viewports.wide }, { watchConsole: false });
    const page = await context.newPage();
    const blocked = [];
    page.on("console", (message) => {
      if (message.type() === "error") blocked.push(message.text());
    });
    await page.goto(`${base}/assess/${slug}?lang=en`);
    let refused = null;
    try {
      await page.addScriptTag({ content: "window.__assessInjected = true;" });
    } catch (error) {
      refused = String(error.message);
    }
    assert.equal(await page.evaluate(() => window.__assessInjected), undefined, "the injected script did not run");
    assert.ok(
      [refused ?? "", ...blocked].some((text) => /Content Security Policy/.test(text)),
      `the browser names the policy: ${refused} ${blocked}`,
    );
    assert.equal(
      await page.$eval("button.primary", (b) => getComputedStyle(b).backgroundColor),
      "rgb(11, 92, 171)",
      "the page's own style applies under the policy",
    );
    await context.close();
    console.log("Content-Security-Policy: an injected script is refused, the page's style applies");
  }

  const outcomes = flows.map((f) => `${rows[f.name]?.tier ?? f.apiTier}:${(rows[f.name]?.blockers ?? []).join(",")}`);
  assert.ok(
    flows.some((f) => (rows[f.name]?.blockers ?? []).length > 0),
    "at least one flow ends below the top tier, with blockers",
  );
  assert.ok(new Set(outcomes).size > 1, `the flows end differently: ${outcomes}`);
} finally {
  await browser.close();
}

// The main document of a refused step (422) or an altered link (404), asserted above.
const statusErrors = consoleErrors.filter(
  (e) => /^Failed to load resource: the server responded with a status of 4\d\d/.test(e.text) && errorDocuments.has(e.url),
);
// bypassCSP may let Chromium ask for /favicon.ico (404), which the policy (img-src data:) forbids.
const favicon = consoleErrors.filter((e) => e.url === `${origin}/favicon.ico`);
const unexpected = consoleErrors.filter((e) => !statusErrors.includes(e) && !favicon.includes(e));
console.log(
  `console: ${statusErrors.length} error(s) for the 422/404 documents, ${favicon.length} for /favicon.ico ` +
    `(bypassCSP only), ${unexpected.length} other`,
);
assert.deepEqual(unexpected, [], "no console errors");
assert.deepEqual(outside, [], "no request leaves the origin");
const violations = axeResults.reduce((n, r) => n + r.violations.length, 0);
for (const [what, pages] of undecided) {
  console.log(`axe could not decide (check by hand): ${what} (${pages.length} page(s), e.g. ${pages[0]})`);
}
console.log(
  `assess pages: ${axeResults.length} pages checked by axe (${axeTags.join(", ")}), ${violations} violation(s), ` +
    `${problems.length} problem(s); ${screenshots} screenshots in ${artefacts}; ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s`,
);
assert.deepEqual(problems, [], "no accessibility or reflow problems");
