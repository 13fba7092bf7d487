//! Request and response bodies of the key routes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::api_key::Role;
use crate::store::entities::api_key;

/// A key to create.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "crm-sync", "role": "collector", "expires_at": "2027-01-01T00:00:00Z", "rate_limit_per_minute": 120000}))]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for (1–100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub role: Role,
    /// When the key stops working (RFC 3339, in the future); never when absent.
    pub expires_at: Option<DateTime<Utc>>,
    /// Requests a minute this key may send, in place of the server-wide limit (e.g. for a
    /// trusted collector that syncs a CRM); the server-wide limit when absent.
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub rate_limit_per_minute: Option<u32>,
}

/// A key as listed: never its secret or hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: Uuid,
    #[schema(example = "crm-sync")]
    pub name: String,
    pub role: Role,
    /// The public part of the key, `rdy_<prefix>_…`, to tell keys apart.
    #[schema(example = "3f9a0c1e5b7d2a48")]
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// The key's own rate limit; `null` when the server-wide limit applies.
    pub rate_limit_per_minute: Option<u32>,
}

/// A key just created, with its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: KeyView,
    /// The whole key, to send as `Authorization: Bearer <token>`. It is shown only in this
    /// reply; the server keeps just a hash of it.
    #[schema(example = "rdy_3f9a0c1e5b7d2a48_…")]
    pub token: String,
}

/// Every key, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

impl TryFrom<&api_key::Model> for KeyView {
    type Error = anyhow::Error;

    fn try_from(model: &api_key::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            id: model.id,
            name: model.name.clone(),
            role: Role::parse(&model.role).ok_or_else(|| {
                anyhow::anyhow!("key {} has unknown role {}", model.id, model.role)
            })?,
            prefix: model.prefix.clone(),
            created_at: model.created_at,
            expires_at: model.expires_at,
            revoked_at: model.revoked_at,
            last_used_at: model.last_used_at,
            rate_limit_per_minute: model
                .rate_limit_per_minute
                .and_then(|n| u32::try_from(n).ok()),
        })
    }
}
