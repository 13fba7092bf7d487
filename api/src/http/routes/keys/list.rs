//! `GET /api/v1/keys`: every key, without secrets.

use actix_web::{HttpResponse, get, web};

use super::{KeyList, KeyView};
use crate::http::extract::caller::{Administer, Authorized};
use crate::http::openapi::AdminOnly;
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::store::keys::KeyStore;

/// List API keys (never their secrets or hashes).
#[utoipa::path(
    tag = "keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every key, oldest first", body = KeyList),
        AdminOnly,
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
