//! A request body must arrive in full within the body timeout (`body_timeout_secs`, counted
//! from when the request reaches the server). actix limits the time to the end of the
//! request's head only, so a client sending one byte of the body every few seconds would
//! otherwise hold its connection, and a worker's attention, for as long as it likes. Past the
//! deadline the body reads as an error, the reply is `408` and the connection is closed.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, header};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use futures::Stream;

use crate::http::problem::{Problem, problem_response};
use crate::http::state::AppState;

/// Middleware: cuts a body that has not arrived within the body timeout.
pub async fn limit(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let has_body = [header::CONTENT_LENGTH, header::TRANSFER_ENCODING]
        .iter()
        .any(|name| req.headers().contains_key(name));
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.body_timeout);
    let (Some(timeout), true) = (timeout, has_body) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let expired = Arc::new(AtomicBool::new(false));
    let body = Deadline {
        inner: req.parts_mut().1.take(),
        sleep: Box::pin(tokio::time::sleep(timeout)),
        expired: Arc::clone(&expired),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let response = next.call(req).await?;
    if !expired.load(Ordering::Relaxed) {
        return Ok(response.map_into_left_body());
    }
    let (request, _) = response.into_parts();
    let mut reply = problem_response(&Problem {
        kind: "/problems/request-timeout".to_owned(),
        title: "Request timeout".to_owned(),
        status: 408,
        detail: format!(
            "the request body did not arrive within {} s",
            timeout.as_secs_f64()
        ),
        code: "request_timeout".to_owned(),
        errors: Vec::new(),
    });
    reply.head_mut().set_connection_type(ConnectionType::Close);
    Ok(ServiceResponse::new(request, reply).map_into_right_body())
}

/// A body stream that fails once its deadline has passed.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
