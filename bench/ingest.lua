-- wrk script for bench/ingest.py.
--
-- READINESS_BENCH_MODE=healthz: the URL as given, e.g. GET /healthz (the bare HTTP rate).
-- READINESS_BENCH_MODE=submit:  POST a realistic ai-readiness v1 submission with a unique
--   Idempotency-Key (READINESS_BENCH_RUN-thread-counter), answers drawn at random (1,024
--   sets per thread), firms drawn from 50,000 (so early submissions create firms, and later
--   ones mostly come from known firms).
-- READINESS_BENCH_KEYS=random: each key starts with 16 random hex digits, as keys drawn at
--   random (UUIDv4) land anywhere in the key index; the default keys grow.
-- READINESS_BENCH_DELAY_MS: pause of each connection between two requests (may be
--   fractional; it is spread over the requests), to offer a fixed lower rate.
-- done() prints key=value lines that the driver reads.

local mode = os.getenv("READINESS_BENCH_MODE") or "submit"
local token = os.getenv("READINESS_BENCH_TOKEN") or ""
local run = os.getenv("READINESS_BENCH_RUN") or tostring(os.time())
local pause = tonumber(os.getenv("READINESS_BENCH_DELAY_MS") or "0")
local random_keys = os.getenv("READINESS_BENCH_KEYS") == "random"

local questions = {
  {"business_age", {"lt_1y", "1_3y", "3_5y", "gt_5y"}},
  {"revenue_trend", {"declining", "volatile", "stable", "growing"}},
  {"task_definition", {"none", "general_area", "named_task", "success_measure", "test_cases"}},
  {"workflow_integration", {"undecided", "copy_paste", "one_step", "integrated_with_review"}},
  {"prior_attempts", {"nothing", "adhoc_chat", "tested_prompts", "prompts_and_knowledge_base"}},
  {"vendor_result", {"not_measured", "good_enough", "missing_company_facts", "format_or_consistency", "hard_constraint"}},
  {"monthly_ai_spend", {"lt_100", "100_1k", "1k_5k", "gt_5k"}},
  {"data_restrictions", {"none", "unsure", "some_data", "all_data"}},
  {"training_examples", {"none", "lt_50", "50_99", "100_499", "ge_500"}},
  {"knowledge_organisation", {"in_heads", "scattered_files", "one_place", "structured_owned"}},
  {"inhouse_skill", {"none", "no_code", "scripts_api", "trained_model", "ml_team"}},
  {"customisation_budget", {"lt_1k", "1k_10k", "10k_50k", "gt_50k"}},
  {"ai_ownership", {"none", "informal", "named_owner", "owner_policy_review"}},
  {"staff_ai_usage", {"none", "few", "most"}},
}
local industries = {"A", "C", "C", "F", "G", "G", "H", "I", "J", "M", "N", "Q"}
local sizes = {"micro", "micro", "micro", "small", "small", "medium", "large"}
local countries = {"DE", "FR", "IT", "ES", "NL", "AT", "PL", "SE"}

local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("id", thread_count)
end

local counter = 0
local owed = 0.0
-- Answer sets are drawn once per thread and combined with a random firm per request, so the
-- client spends its time sending rather than formatting (it shares the cores with the server).
local answer_sets = {}
local ANSWER_SETS = 1024
-- The request line and the headers every submission shares, formatted once in init():
-- wrk.format would build a table and format each header again for every request, which
-- took about a sixth of the client's CPU.
local head

local function pick(list)
  return list[math.random(#list)]
end

function init(args)
  math.randomseed((id or 1) * 7919 + os.time())
  for n = 1, ANSWER_SETS do
    local answers = {}
    for i, q in ipairs(questions) do
      answers[i] = string.format('"%s":"%s"', q[1], pick(q[2]))
    end
    answer_sets[n] = table.concat(answers, ",")
  end
  head = string.format("POST /api/v1/surveys/ai-readiness/responses HTTP/1.1\r\nHost: %s\r\n"
    .. "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
    wrk.headers["Host"], token)
end

-- Unique either way: the random prefix comes before the run, the thread and the counter.
local function key()
  local grown = string.format("%s-%d-%d", run, id or 0, counter)
  if random_keys then
    return string.format("%08x%08x-%s", math.random(0, 0x7fffffff),
      math.random(0, 0x7fffffff), grown)
  end
  return grown
end

-- Without a request() function wrk sends one prepared request (the URL's) over and over,
-- which is what the healthz run wants.
local function submission()
  counter = counter + 1
  local firm = math.random(50000)
  local body = string.format(
    '{"firm":{"ref":"bench-%05d","industry":"%s","size_band":"%s","country":"%s"},'
      .. '"answers":{%s},"submitted_at":"2026-10-01T12:00:00Z"}',
    firm, industries[firm % #industries + 1], sizes[firm % #sizes + 1],
    countries[firm % #countries + 1], answer_sets[math.random(ANSWER_SETS)])
  return string.format("%sContent-Length: %d\r\nIdempotency-Key: %s\r\n\r\n%s", head, #body, key(), body)
end
if mode == "submit" then
  request = submission
end

if pause > 0 then
  -- wrk takes whole milliseconds; carry the fraction over to later requests.
  function delay()
    owed = owed + pause
    local whole = math.floor(owed)
    owed = owed - whole
    return whole
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("requests=%d\n", summary.requests))
  io.write(string.format("seconds=%.3f\n", seconds))
  io.write(string.format("rate=%.1f\n", summary.requests / seconds))
  io.write(string.format("non_2xx=%d\n", summary.errors.status))
  io.write(string.format("socket_errors=%d\n",
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("mean_ms=%.3f\n", latency.mean / 1000))
  io.write(string.format("p50_ms=%.3f\n", latency:percentile(50) / 1000))
  io.write(string.format("p99_ms=%.3f\n", latency:percentile(99) / 1000))
  io.write(string.format("max_ms=%.3f\n", latency.max / 1000))
end
