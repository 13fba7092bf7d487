// What a dashboard does, through the generated types: list the surveys, submit responses
// with a collector key, then read the readiness report by size band, the trend and the
// blockers with an analyst key, revalidate a filtered report, and keep a local mirror of the
// responses in sync. Every result is checked through its generated type.
//
// Needs READINESS_URL, READINESS_COLLECTOR_KEY and READINESS_ANALYST_KEY.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import createClient from "openapi-fetch";

import type { components, paths } from "./schema.js";

type SizeBand = components["schemas"]["SizeBand"];
type Cell = components["schemas"]["Cell"];
type Segment = components["schemas"]["Segment"];
type TierEstimate = components["schemas"]["TierEstimate"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const baseUrl = env("READINESS_URL");
const anonymous = createClient<paths>({ baseUrl });
const collector = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${env("READINESS_COLLECTOR_KEY")}` },
});
const analyst = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${env("READINESS_ANALYST_KEY")}` },
});

const slug = "ai-readiness";

// 1. The surveys a form can be rendered for.
const surveys = await anonymous.GET("/api/v1/surveys");
assert.equal(surveys.response.status, 200);
assert.ok(surveys.data, "a survey list");
const listed = surveys.data.surveys.find((s) => s.slug === slug);
assert.ok(listed, `${slug} is listed`);
assert.equal(listed.status, "published");

const survey = await anonymous.GET("/api/v1/surveys/{slug}", {
  params: { path: { slug } },
});
assert.ok(survey.data, "the survey definition");
const questions = survey.data.definition.questions;
assert.ok(questions.length > 0);

// Answers built from the definition: the highest option of every question, so the firm
// reaches the top tier; and the lowest, so it stays at the first.
function answers(pick: "highest" | "lowest"): Record<string, string> {
  const chosen: Record<string, string> = {};
  for (const question of questions) {
    const option = pick === "highest" ? question.options.at(-1) : question.options[0];
    assert.ok(option, `${question.key} has options`);
    chosen[question.key] = option.key;
  }
  return chosen;
}

// 2. Submissions: ten firms in each of two size bands, so neither segment is suppressed
// (published sizes are perturbed by up to 2, and the report asks for at least 5).
const run = randomUUID().slice(0, 8);
const bands: SizeBand[] = ["micro", "small"];
let submitted = 0;
for (const size_band of bands) {
  for (let i = 0; i < 10; i++) {
    const pick = i % 3 === 0 ? "highest" : "lowest";
    const result = await collector.POST("/api/v1/surveys/{slug}/responses", {
      params: {
        path: { slug },
        header: { "Idempotency-Key": `ts-${run}-${size_band}-${i}` },
      },
      body: {
        firm: { ref: `ts-${run}-${size_band}-${i}`, industry: "C", size_band, country: "DE" },
        answers: answers(pick),
      },
    });
    assert.equal(result.response.status, 201, JSON.stringify(result.error));
    assert.ok(result.data, "an assessment");
    assert.equal(result.data.survey.slug, slug);
    if (pick === "highest") {
      assert.equal(result.data.ready_to_customise, true);
      assert.equal(result.data.next_tier, null);
      assert.deepEqual(result.data.blockers, []);
    } else {
      assert.equal(result.data.tier.rank, 1);
      assert.ok(result.data.blockers.length > 0, "a first-tier firm has blockers");
    }
    submitted++;
  }
}

// 3. The readiness report by size band.
const readiness = await analyst.GET("/api/v1/reports/readiness", {
  params: { query: { survey: slug, by: ["size_band"], min_cell: 5 } },
});
assert.equal(readiness.response.status, 200, JSON.stringify(readiness.error));
assert.ok(readiness.data);
assert.deepEqual(readiness.data.by, ["size_band"]);
const overall: Cell = readiness.data.overall;
assert.equal(overall.suppressed, false);
// Counts are perturbed (the cell key method moves each by at most 2 with the default table).
assert.ok((overall.n ?? 0) >= submitted - 2, `about ${submitted} firms or more`);
for (const band of bands) {
  const segment: Segment | undefined = readiness.data.segments.find((s) => s.key.size_band === band);
  assert.ok(segment, `a ${band} segment`);
  assert.equal(segment.suppressed, false);
  const ready = segment.ready_to_customise;
  assert.ok(ready, "an estimate");
  assert.ok(ready.ci_low <= ready.share && ready.share <= ready.ci_high);
  const tiers: TierEstimate[] = segment.tiers ?? [];
  const n = segment.n ?? 0;
  // Each count is perturbed on its own, so they add up to n only within the noise.
  assert.ok(tiers.every((tier) => tier.count >= 0 && tier.count <= n), "no tier count exceeds n");
  const sum = tiers.reduce((total, tier) => total + tier.count, 0);
  assert.ok(Math.abs(sum - n) <= 2 * (tiers.length + 1), `tier counts ${sum} are about n ${n}`);
}

// 4. The trend by month.
const trend = await analyst.GET("/api/v1/reports/trend", {
  params: { query: { survey: slug, interval: "month" } },
});
assert.equal(trend.response.status, 200, JSON.stringify(trend.error));
assert.ok(trend.data);
assert.equal(trend.data.interval, "month");
assert.ok(trend.data.periods.length >= 1);
assert.match(trend.data.periods.at(-1)?.period ?? "", /^\d{4}-\d{2}$/);

// 5. The blockers: first-tier firms were submitted, so the second tier has gates to report.
const blockers = await analyst.GET("/api/v1/reports/blockers", {
  params: { query: { survey: slug } },
});
assert.equal(blockers.response.status, 200, JSON.stringify(blockers.error));
assert.ok(blockers.data);
const second = blockers.data.tiers.find((t) => t.rank === 2);
assert.ok(second, "blockers of the second tier");
assert.equal(second.overall.suppressed, false);
const gates = second.overall.gates ?? [];
assert.ok(gates.length > 0);
assert.ok(gates.every((g) => g.gate.length > 0 && g.share >= 0 && g.share <= 1));

// 6. A dashboard's filtered view: only micro firms in Germany. Its overall cell is the micro
// segment above (the same firms, so the same perturbed figures), and asking again with the
// ETag answers 304 with no body while nothing changed.
const filteredQuery = { survey: slug, size_band: ["micro" as SizeBand], country: ["DE" as const] };
const filtered = await analyst.GET("/api/v1/reports/readiness", {
  params: { query: filteredQuery },
});
assert.equal(filtered.response.status, 200, JSON.stringify(filtered.error));
assert.ok(filtered.data);
assert.deepEqual(filtered.data.filters.size_band, ["micro"]);
assert.deepEqual(filtered.data.filters.country, ["DE"]);
const micro = readiness.data.segments.find((s) => s.key.size_band === "micro");
assert.equal(filtered.data.overall.n, micro?.n, "the filtered report counts the micro segment's firms");
const etag = filtered.response.headers.get("etag");
assert.ok(etag, "an ETag");
const revalidated = await analyst.GET("/api/v1/reports/readiness", {
  params: { query: filteredQuery, header: { "If-None-Match": etag } },
});
assert.equal(revalidated.response.status, 304);
assert.equal(revalidated.response.headers.get("etag"), etag);

// 7. A local mirror kept in sync: page through every response in commit order with
// `after=`, then apply the change feed, where an erasure lists the responses to delete. A
// second pass from the last cursor finds nothing new, and nothing is seen twice.
type SyncedResponse = components["schemas"]["SyncedResponse"];
const mirror = new Map<string, SyncedResponse>();
let cursor: string | undefined;
for (;;) {
  const page = await analyst.GET("/api/v1/responses", {
    params: { query: { survey: slug, limit: 7, ...(cursor ? { after: cursor } : {}) } },
  });
  assert.equal(page.response.status, 200, JSON.stringify(page.error));
  assert.ok(page.data);
  for (const response of page.data.responses) {
    assert.ok(!mirror.has(response.id), `${response.id} seen twice`);
    mirror.set(response.id, response);
  }
  cursor = page.data.next_cursor;
  if (!page.data.has_more) break;
}
const ours = [...mirror.values()].filter((r) => r.firm.ref.startsWith(`ts-${run}-`));
assert.equal(ours.length, submitted, "every response of this run is in the mirror");
const caughtUp = await analyst.GET("/api/v1/responses", {
  params: { query: { after: cursor } },
});
assert.deepEqual(caughtUp.data?.responses, []);
assert.equal(caughtUp.data?.next_cursor, cursor);
let feedCursor: string | undefined;
for (;;) {
  const feed = await analyst.GET("/api/v1/changes", {
    params: { query: { limit: 1000, ...(feedCursor ? { after: feedCursor } : {}) } },
  });
  assert.equal(feed.response.status, 200, JSON.stringify(feed.error));
  assert.ok(feed.data);
  for (const change of feed.data.changes) {
    if (change.kind === "firm.erased") {
      for (const id of change.response_ids ?? []) mirror.delete(id);
    }
  }
  feedCursor = feed.data.next_cursor;
  if (!feed.data.has_more) break;
}

// A refused call is a typed problem document.
const refused = await anonymous.GET("/api/v1/reports/readiness", {});
assert.equal(refused.response.status, 401);
assert.equal(refused.error?.code, "unauthorized");

console.log(
  `typescript client: ${submitted} responses submitted; readiness, trend and blockers read; a filtered report revalidated (304); a mirror of ${mirror.size} responses synced`,
);
