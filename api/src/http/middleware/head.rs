//! `HEAD` on a `GET` route answers as `GET` would, without the body.
//!
//! The routes are registered for `GET` only, so a `HEAD` request is routed as a `GET`. The
//! connection still knows the request was `HEAD`, and actix-http writes the status and the
//! headers (`Content-Length` included) but no body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// Middleware: routes a `HEAD` request as a `GET`.
pub async fn as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
