//! `store_response_group`, PostgreSQL only: a group commit's usual case in one statement, so a
//! writer makes one round trip per group instead of one per step.
//!
//! The function is called outside any explicit transaction, so the call is its own
//! transaction and its reply comes after the commit. It upserts the firms (in the order given,
//! a firm's attributes written only when they changed), then, in a new snapshot, refuses the
//! whole group when a digest of an erased firm or key is recorded, or when a key is stored in
//! its form from before keys were scoped; then inserts the responses (in the order given) and
//! refuses the whole group unless every one went in. A refusal raises one of the function's
//! own errors, caught in the function itself: everything it wrote is undone, it returns no
//! rows, and nothing is logged as an error. The writer then takes the general path, one step
//! at a time, which tells each request what happened to it. On success it returns every
//! firm's id by reference.
//!
//! Each statement of a PL/pgSQL function takes its own snapshot, so the tombstones are read
//! after the firm upsert has waited for any erasure holding one of these firms, exactly as on
//! the general path.
//!
//! A PL/pgSQL function keeps one plan per statement for the session, made once the statement
//! has run a few times. Made while the tables were nearly empty, such a plan scanned whole
//! tables for every lookup as they grew (a tenth of the throughput on a fresh database).
//! `enable_seqscan = off` for the function's own statements keeps every lookup on its index
//! (firms by reference, responses by key, tombstones by digest) whatever the statistics said
//! when the plan was made.
//!
//! SQLite is left unchanged: its writer runs inside the server's process, where a step costs
//! no round trip.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
CREATE FUNCTION store_response_group(firm_rows jsonb, response_rows jsonb, marks jsonb, legacy_keys jsonb)
RETURNS TABLE (firm_ref text, firm_id uuid)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    mark_list text[] := ARRAY(SELECT jsonb_array_elements_text(marks));
    legacy_list text[] := ARRAY(SELECT jsonb_array_elements_text(legacy_keys));
    ref_list text[] := ARRAY(SELECT e ->> 'external_ref' FROM jsonb_array_elements(firm_rows) AS e);
    expected bigint := jsonb_array_length(response_rows);
    stored bigint;
BEGIN
    INSERT INTO firms AS f (id, external_ref, industry, size_band, country, region, created_at, updated_at)
    SELECT n.id, n.external_ref, n.industry, n.size_band, n.country, n.region, n.at, n.at
    FROM ROWS FROM (jsonb_to_recordset(firm_rows) AS (
        id uuid, external_ref text, industry text, size_band text, country text, region text,
        at timestamptz
    )) WITH ORDINALITY AS n (id, external_ref, industry, size_band, country, region, at, position)
    ORDER BY n.position
    ON CONFLICT (external_ref) DO UPDATE SET
        industry = excluded.industry,
        size_band = excluded.size_band,
        country = excluded.country,
        region = excluded.region,
        updated_at = excluded.updated_at
    WHERE f.industry IS DISTINCT FROM excluded.industry
        OR f.size_band IS DISTINCT FROM excluded.size_band
        OR f.country IS DISTINCT FROM excluded.country
        OR f.region IS DISTINCT FROM excluded.region;

    IF EXISTS (SELECT 1 FROM erasure_tombstones t WHERE t.digest = ANY (mark_list)) THEN
        RAISE EXCEPTION 'the group names an erased firm or key' USING ERRCODE = 'RD001';
    END IF;
    IF cardinality(legacy_list) > 0
        AND EXISTS (SELECT 1 FROM responses r WHERE r.idempotency_key = ANY (legacy_list)) THEN
        RAISE EXCEPTION 'the group replays a key stored before keys were scoped' USING ERRCODE = 'RD002';
    END IF;

    INSERT INTO responses (
        id, survey_id, firm_id, answers, industry, size_band, country, region, tier, tier_rank,
        ready_to_customise, blockers, score_maturity, score_clarity, score_vendor_gap,
        score_capability, score_governance, rubric_version, submitted_at, received_at, source,
        idempotency_key, payload_hash
    )
    SELECT n.id, n.survey_id,
        (SELECT f.id FROM firms f WHERE f.external_ref = n.firm_ref),
        n.answers, n.industry, n.size_band, n.country, n.region, n.tier, n.tier_rank,
        n.ready_to_customise, n.blockers, n.score_maturity, n.score_clarity, n.score_vendor_gap,
        n.score_capability, n.score_governance, n.rubric_version, n.submitted_at, n.received_at,
        n.source, n.idempotency_key, n.payload_hash
    FROM ROWS FROM (jsonb_to_recordset(response_rows) AS (
        id uuid, survey_id integer, firm_ref text, answers jsonb, industry text, size_band text,
        country text, region text, tier text, tier_rank smallint, ready_to_customise boolean,
        blockers jsonb, score_maturity double precision, score_clarity double precision,
        score_vendor_gap double precision, score_capability double precision,
        score_governance double precision, rubric_version text, submitted_at timestamptz,
        received_at timestamptz, source text, idempotency_key text, payload_hash text
    )) WITH ORDINALITY AS n (
        id, survey_id, firm_ref, answers, industry, size_band, country, region, tier, tier_rank,
        ready_to_customise, blockers, score_maturity, score_clarity, score_vendor_gap,
        score_capability, score_governance, rubric_version, submitted_at, received_at, source,
        idempotency_key, payload_hash, position
    )
    ORDER BY n.position
    ON CONFLICT (idempotency_key) DO NOTHING;
    GET DIAGNOSTICS stored = ROW_COUNT;
    IF stored <> expected THEN
        RAISE EXCEPTION 'an idempotency key of the group is taken' USING ERRCODE = 'RD003';
    END IF;

    RETURN QUERY SELECT f.external_ref::text, f.id FROM firms f WHERE f.external_ref = ANY (ref_list);
EXCEPTION WHEN SQLSTATE 'RD001' OR SQLSTATE 'RD002' OR SQLSTATE 'RD003' THEN
    -- Refused: everything above is undone, and no row says so.
    RETURN;
END
$$
"#;

const POSTGRES_DOWN: &str =
    "DROP FUNCTION IF EXISTS store_response_group(jsonb, jsonb, jsonb, jsonb)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES_UP)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES_DOWN)
                .await?;
        }
        Ok(())
    }
}
