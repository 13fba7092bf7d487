//! `GET /api/v1/keys`: every key, without secrets.

use actix_web::{HttpResponse, get, web};

use super::{KeyList, KeyView};
use crate::auth::{Administer, Authorized};
use crate::problem::{ApiError, Problem};
use crate::startup::AppState;
use crate::store::keys::KeyStore;

/// List API keys (never their secrets or hashes).
#[utoipa::path(
    tag = "keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every key, oldest first", body = KeyList),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is not an admin key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/keys")]
pub async fn list_keys(
    _admin: Authorized<Administer>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let keys = KeyStore::list(&state.db)
        .await?
        .iter()
        .map(KeyView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(KeyList { keys }))
}
