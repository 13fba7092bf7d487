"""Schemathesis hooks: the server's rules that JSON Schema cannot state, applied to the
requests schemathesis generates as valid (positive cases) so that they are valid.

`openapi/openapi.json` states every constraint a schema can hold. What is left relates one
value to another, to the clock, to the network or to the data the server holds, and each rule
is documented on its field or parameter:

- a window's first day is not after its last (`from`/`to`, and the change report's baseline
  and follow-up windows, which come four together and must not overlap);
- a key's `expires_at` and a submission's `submitted_at` are judged against the clock
  (the first in the future, the second not more than 5 minutes ahead);
- a firm's `region` is a subdivision of its `country` (`DE-BY` for `DE`);
- an idempotency key is used with one payload only (another payload under a used key is
  `422 idempotency_key_reused`, as the IETF Idempotency-Key draft asks): a valid case's key
  is made unique;
- a submission's answers are the survey version's questions and options (read from the
  instrument, `analytics/instruments/ai-readiness-v1.json`);
- an instrument posted to `POST /api/v1/surveys` is consistent (its gates name its own
  questions and options): a valid case posts the built-in instrument under the case's slug;
- report weights must fit the sample (the margins list every category the sample has and,
  with `dropped_categories=refuse`, the sample has every category of the margins): a valid
  case weights to `every-category`, margins run_schemathesis.sh stores before the run that
  list every size band and industry, and asks for `dropped_categories=report`;
- a webhook URL must resolve to an address the server may call: a valid case names the
  receiver address 127.0.0.1, which the server under test allows (`--webhooks-allow-private`);
- a firm's reference and a key's name are text a person can read: no control or invisible
  format characters, no space at either end, in Unicode NFKC form (a valid case keeps the
  characters that are, re-normalised);
- no text holds U+0000 (PostgreSQL cannot store it);
- an invitation names a published survey: a valid case invites to `ai-readiness`.

The margins `every-category` are the run's own: a valid `POST /api/v1/populations` that
would replace them gets another name.

Cases generated as invalid (negative) are left alone, so every rule is still tried from the
other side, where the server must refuse with a 4xx.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import uuid
import zlib
from pathlib import Path
from typing import Any

import schemathesis

INSTRUMENT = json.loads(
    (Path(__file__).resolve().parents[2] / "analytics" / "instruments" / "ai-readiness-v1.json").read_text()
)
OPTIONS = {q["key"]: [o["key"] for o in q["options"]] for q in INSTRUMENT["questions"]}
WINDOW = ("baseline_from", "baseline_to", "followup_from", "followup_to")
# The receiver address a valid webhook registration names (nothing listens there: deliveries
# fail and are retried, which the run does not wait for).
RECEIVER = "http://127.0.0.1:9/readiness-hook"
# Population margins listing every size band and industry (stored by run_schemathesis.sh).
EVERY_CATEGORY = "every-category"


def positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


def strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    return value


def parse_day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def ordered_windows(query: dict[str, Any], required: bool) -> None:
    """Four days in order, the follow-up starting after the baseline ends."""
    given = [parse_day(query.get(name)) for name in WINDOW]
    if not required and not any(given):
        return
    days = sorted(d if d is not None else dt.date(2026, 1, 1) for d in given)
    if days[2] <= days[1]:
        if days[1] < dt.date.max:
            days[2] = days[1] + dt.timedelta(days=1)
        else:
            days[0] = days[1] = min(days[0], days[1] - dt.timedelta(days=1))
        days[3] = max(days[3], days[2])
    for name, day in zip(WINDOW, days):
        query[name] = day.isoformat()


def ordered_from_to(query: dict[str, Any]) -> None:
    start, end = parse_day(query.get("from")), parse_day(query.get("to"))
    if start and end and start > end:
        query["from"], query["to"] = end.isoformat(), start.isoformat()


def valid_answers(seed: str) -> dict[str, str]:
    """One option of every question, chosen from the case's own data."""
    base = zlib.crc32(seed.encode("utf-8", "surrogatepass"))
    return {key: options[(base + i) % len(options)] for i, (key, options) in enumerate(OPTIONS.items())}


def parse_instant(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        return None


def readable(text: Any, limit: int, fallback: str) -> Any:
    """`text` without control, format, surrogate or unassigned characters, in NFKC form,
    without space at either end, at most `limit` characters; `fallback` if nothing is left."""
    if not isinstance(text, str):
        return text
    for _ in range(3):
        kept = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
        text = unicodedata.normalize("NFKC", kept).strip()[:limit].strip()
        if unicodedata.is_normalized("NFKC", text):
            break
    return text if text and unicodedata.is_normalized("NFKC", text) else fallback


def unique_key(key: Any) -> Any:
    """A key no earlier request used: a fresh prefix, within the 255 visible characters."""
    return f"{uuid.uuid4().hex}-{key}"[:255] if isinstance(key, str) else key


def valid_submission(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    if "idempotency_key" in item:
        item["idempotency_key"] = unique_key(item["idempotency_key"])
    # Every survey of the run has the built-in instrument's questions (see POST /api/v1/surveys).
    if isinstance(item.get("answers"), dict):
        item["answers"] = valid_answers(json.dumps(item["answers"], sort_keys=True, default=str))
    firm = item.get("firm")
    if isinstance(firm, dict) and "ref" in firm:
        firm["ref"] = readable(firm["ref"], 128, "firm-1")
    if isinstance(firm, dict) and isinstance(firm.get("region"), str) and isinstance(firm.get("country"), str):
        if not firm["region"].startswith(firm["country"] + "-"):
            firm["region"] = None
    at = parse_instant(item.get("submitted_at"))
    now = dt.datetime.now(dt.timezone.utc)
    if at is not None and at.tzinfo is not None and not (dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) <= at <= now):
        item["submitted_at"] = "2026-10-01T12:00:00Z"
    return item


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    return valid(case) if positive(case) else case


@schemathesis.hook
def before_add_examples(context: Any, examples: list[Any]) -> None:
    # The examples phase completes the documented examples with generated values, which no
    # `map_case` sees; every such case is meant to be valid.
    for case in examples:
        valid(case)


def valid(case: Any) -> Any:
    """The case, made to obey the rules listed at the top."""
    path, method = case.operation.path, case.method.upper()
    if isinstance(case.query, dict):
        case.query = strip_nul(case.query)
        ordered_from_to(case.query)
        if "weights" in case.query:
            case.query["weights"] = EVERY_CATEGORY
            case.query["dropped_categories"] = "report"
        if path in ("/api/v1/reports/change", "/api/v1/reports/readiness.html", "/api/v1/reports/share"):
            ordered_windows(case.query, required=path == "/api/v1/reports/change")
    if isinstance(case.body, (dict, list)):
        case.body = strip_nul(case.body)
    body = case.body
    if method == "POST" and path == "/api/v1/keys" and isinstance(body, dict):
        if "name" in body:
            body["name"] = readable(body["name"], 100, "key-1")
        expires = parse_instant(body.get("expires_at"))
        if expires is not None and (expires.tzinfo is None or expires <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)):
            body["expires_at"] = "2099-01-01T00:00:00Z"
    elif method == "POST" and path == "/api/v1/surveys" and isinstance(body, dict):
        instrument = dict(INSTRUMENT)
        if isinstance(body.get("slug"), str):
            instrument["slug"] = body["slug"]
        case.body = instrument
    elif method == "POST" and path == "/api/v1/surveys/{slug}/responses":
        case.body = valid_submission(body)
        headers = case.headers or {}
        for name in list(headers):
            if name.lower() == "idempotency-key":
                headers[name] = unique_key(headers[name])
    elif method == "POST" and path == "/api/v1/surveys/{slug}/responses/batch" and isinstance(body, dict):
        if isinstance(body.get("responses"), list):
            body["responses"] = [valid_submission(item) for item in body["responses"]]
    elif method == "POST" and path == "/api/v1/populations" and isinstance(body, dict):
        if body.get("name") == EVERY_CATEGORY:
            body["name"] = EVERY_CATEGORY + "-2"
    elif method == "POST" and path == "/api/v1/webhooks" and isinstance(body, dict):
        body["url"] = RECEIVER
    elif method == "POST" and path == "/api/v1/invitations" and isinstance(body, dict):
        body["survey"] = "ai-readiness"
        if "firm_ref" in body:
            body["firm_ref"] = readable(body["firm_ref"], 128, "firm-1")
        segment = body.get("segment")
        if isinstance(segment, dict) and isinstance(segment.get("region"), str) and isinstance(segment.get("country"), str):
            if not segment["region"].startswith(segment["country"] + "-"):
                segment["region"] = None
    return case
