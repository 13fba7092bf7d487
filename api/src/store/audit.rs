//! The audit log: every write that is not a submission, with who did it and in which request.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use super::entities::audit_event;
use crate::domain::submission::to_stored_precision;

/// Who is acting, and in which request. `actor` is `None` for the command line.
#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    pub actor: Option<Uuid>,
    /// The server's id of the request.
    pub request_id: Option<String>,
    /// The client's `X-Request-Id`, if it sent one.
    pub client_request_id: Option<String>,
}

/// The actions the audit log knows.
pub mod action {
    pub const KEY_CREATE: &str = "key.create";
    pub const KEY_REVOKE: &str = "key.revoke";
    pub const FIRM_ERASE: &str = "firm.erase";
    pub const SURVEY_CREATE: &str = "survey.create";
    pub const SURVEY_PUBLISH: &str = "survey.publish";
    pub const SURVEY_SET_PUBLIC: &str = "survey.set_public";
    pub const POPULATION_SAVE: &str = "population.save";
    pub const REPORT_SHARE: &str = "report.share";
    pub const REPORT_SHARE_REVOKE: &str = "report.share_revoke";
    pub const WEBHOOK_CREATE: &str = "webhook.create";
    pub const WEBHOOK_DELETE: &str = "webhook.delete";
    pub const WEBHOOK_REDELIVER: &str = "webhook.redeliver";
}

/// Which events to read: newest first, strictly older than `before_id`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
    pub limit: u64,
}

pub struct AuditStore;

impl AuditStore {
    /// Appends one event. Call it inside the transaction of the write it describes, so the
    /// write and its record commit together.
    pub async fn record<C: ConnectionTrait>(
        conn: &C,
        context: &AuditContext,
        action: &str,
        target: &str,
        details: Value,
    ) -> Result<(), DbErr> {
        let event = audit_event::ActiveModel {
            id: NotSet,
            at: Set(to_stored_precision(Utc::now())),
            actor: Set(context.actor),
            action: Set(action.to_owned()),
            target: Set(target.to_owned()),
            request_id: Set(context.request_id.clone()),
            client_request_id: Set(context.client_request_id.clone()),
            details: Set(details),
        };
        audit_event::Entity::insert(event)
            .exec_without_returning(conn)
            .await
            .map(|_| ())
    }

    /// One page of events, newest first; `from` is inclusive, `to` exclusive.
    pub async fn page(
        db: &DatabaseConnection,
        filter: &AuditFilter,
    ) -> Result<Vec<audit_event::Model>, DbErr> {
        let mut query = audit_event::Entity::find();
        if let Some(action) = &filter.action {
            query = query.filter(audit_event::Column::Action.eq(action.as_str()));
        }
        if let Some(from) = filter.from {
            query = query.filter(audit_event::Column::At.gte(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(audit_event::Column::At.lt(to));
        }
        if let Some(before) = filter.before_id {
            query = query.filter(audit_event::Column::Id.lt(before));
        }
        query
            .order_by_desc(audit_event::Column::Id)
            .limit(filter.limit)
            .all(db)
            .await
    }
}
