//! Reading scored responses in the shape report snapshots take them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use readiness_analytics::reports::ResponseRow;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entities::{response, survey};

/// Rows read per query while loading a snapshot.
pub const PAGE: u64 = 50_000;

#[derive(Debug, FromQueryResult)]
struct SnapshotRow {
    id: Uuid,
    firm_id: Uuid,
    survey_id: i32,
    industry: String,
    size_band: String,
    country: String,
    region: Option<String>,
    tier_rank: i16,
    ready_to_customise: bool,
    blockers: serde_json::Value,
    score_maturity: f64,
    score_clarity: f64,
    score_vendor_gap: f64,
    score_capability: f64,
    score_governance: f64,
    submitted_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
}

/// A position in receipt order.
pub type Watermark = (DateTime<Utc>, Uuid);

pub struct ReportRowQuery;

impl ReportRowQuery {
    /// Survey id → instrument version.
    pub async fn versions(db: &DatabaseConnection) -> Result<HashMap<i32, i32>, DbErr> {
        Ok(survey::Entity::find()
            .select_only()
            .column(survey::Column::Id)
            .column(survey::Column::Version)
            .into_tuple::<(i32, i32)>()
            .all(db)
            .await?
            .into_iter()
            .collect())
    }

    /// Up to [`PAGE`] responses received after `after`, in receipt order, and the position of
    /// the last one.
    pub async fn page_after(
        db: &DatabaseConnection,
        after: Option<Watermark>,
        versions: &HashMap<i32, i32>,
    ) -> Result<(Vec<ResponseRow>, Option<Watermark>), DbErr> {
        let mut query = response::Entity::find()
            .select_only()
            .columns([
                response::Column::Id,
                response::Column::FirmId,
                response::Column::SurveyId,
                response::Column::Industry,
                response::Column::SizeBand,
                response::Column::Country,
                response::Column::Region,
                response::Column::TierRank,
                response::Column::ReadyToCustomise,
                response::Column::Blockers,
                response::Column::ScoreMaturity,
                response::Column::ScoreClarity,
                response::Column::ScoreVendorGap,
                response::Column::ScoreCapability,
                response::Column::ScoreGovernance,
                response::Column::SubmittedAt,
                response::Column::ReceivedAt,
            ])
            .order_by_asc(response::Column::ReceivedAt)
            .order_by_asc(response::Column::Id)
            .limit(PAGE);
        if let Some((at, id)) = after {
            // A row-value comparison, so the (received_at, id) index serves the keyset.
            query = query.filter(
                Expr::tuple([
                    Expr::col(response::Column::ReceivedAt),
                    Expr::col(response::Column::Id),
                ])
                .gt(Expr::tuple([Expr::value(at), Expr::value(id)])),
            );
        }
        let rows = query.into_model::<SnapshotRow>().all(db).await?;
        let last = rows.last().map(|r| (r.received_at, r.id));
        let converted = rows
            .into_iter()
            .map(|r| ResponseRow {
                id: r.id.as_u128(),
                firm: r.firm_id.as_u128(),
                survey_id: r.survey_id,
                version: versions.get(&r.survey_id).copied().unwrap_or_default(),
                industry: r.industry,
                size_band: r.size_band,
                country: r.country,
                region: r.region,
                submitted_at: r.submitted_at.timestamp_micros(),
                tier_rank: u8::try_from(r.tier_rank).unwrap_or_default(),
                ready_to_customise: r.ready_to_customise,
                blockers: serde_json::from_value(r.blockers).unwrap_or_default(),
                scores: [
                    r.score_maturity,
                    r.score_clarity,
                    r.score_vendor_gap,
                    r.score_capability,
                    r.score_governance,
                ],
            })
            .collect();
        Ok((converted, last))
    }
}
