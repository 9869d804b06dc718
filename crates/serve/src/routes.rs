//! The routes and the middleware around them.

use crate::admission::{Rejected, Ticket};
use crate::error::ApiError;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use codejury_bench::Dataset;
use codejury_core::Hint;
use codejury_pipeline::judge::{self, JudgeRequest, PairVerdict, SubmitRequest};
use serde::de::DeserializeOwned;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use subtle::ConstantTimeEq;

type Shared = Arc<AppState>;

/// The service's router.
pub(crate) fn router(state: Shared, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/v1/judge", post(judge_route))
        .route("/v1/submit", post(submit_route))
        .route("/run_code", post(crate::run_code::run_code_route))
        .route("/v1/ping", get(|| async { Json("pong") }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_route))
        .route_layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            bound_requests,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

/// Counts each answered request by route and status, and says which
/// isolation layers judged it.
async fn observe(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let mut resp = next.run(req).await;
    st.metrics.request(&route, resp.status().as_u16());
    if let Ok(v) = HeaderValue::from_str(&st.isolation) {
        resp.headers_mut().insert("x-codejury-isolation", v);
    }
    resp
}

/// Holds the requests being read or served to `--max-requests`; more wait
/// with their bodies unread, so the memory bodies take is bounded by
/// `max_requests × max_body_bytes` whatever the burst.
async fn bound_requests(State(st): State<Shared>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    match st.requests.clone().acquire_owned().await {
        Ok(_permit) => next.run(req).await,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        )
        .into_response(),
    }
}

/// The bearer token, compared in constant time; the probes need none.
async fn authorize(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let open = matches!(req.uri().path(), "/healthz" | "/readyz");
    if let (Some(token), false) = (&st.token, open) {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::as_bytes)
            .unwrap_or(&[]);
        if !bool::from(given.ct_eq(token.as_slice())) {
            st.metrics.request("unauthorized", 401);
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token (Authorization: Bearer TOKEN)",
            )
            .into_response();
        }
    }
    next.run(req).await
}

async fn readyz(State(st): State<Shared>) -> Response {
    if st.draining.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else {
        "ready".into_response()
    }
}

async fn metrics_route(State(st): State<Shared>) -> Response {
    st.metrics.queue(st.admission.in_use());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.metrics.render(),
    )
        .into_response()
}

/// Parses a JSON body; a bad one is a 400 that quotes serde (field, line
/// and column).
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

/// Admits `pairs` for a `/v1/*` request, or answers 413 (never fits) or
/// 429 with `Retry-After` (full now).
fn admit(st: &AppState, pairs: usize) -> Result<Ticket, ApiError> {
    if st.draining.load(Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        ));
    }
    let t = st.admission.try_admit(pairs).map_err(|r| match r {
        Rejected::TooLarge { pairs, capacity } => {
            st.metrics.rejection("too-large");
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{pairs} pairs is more than this server's queue holds ({capacity}); split the request"),
            )
        }
        Rejected::Busy => {
            st.metrics.rejection("busy");
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "the queue is full ({} of {} pairs in flight)",
                    st.admission.in_use(),
                    st.admission.capacity()
                ),
            );
            e.retry_after_s = Some(1);
            e
        }
    })?;
    st.metrics.queue(st.admission.in_use());
    Ok(t)
}

fn wants_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-ndjson"))
}

fn check_limits(st: &AppState, req: &JudgeRequest) -> Result<(), ApiError> {
    if req.limits.timeout_ms > st.max_timeout_ms {
        return Err(ApiError::bad_request(format!(
            "field `limits.timeout_ms`: {} is above this server's maximum ({})",
            req.limits.timeout_ms, st.max_timeout_ms
        )));
    }
    Ok(())
}

fn count_pair(st: &AppState, p: &PairVerdict) {
    let wall = (!p.cached).then_some(p.wall_ms / 1e3);
    st.metrics.pair(p.verdict.as_str(), wall);
}

async fn judge_route(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: JudgeRequest = parse(&body)?;
    drop(body);
    check_limits(&st, &req)?;
    let ticket = admit(&st, req.pairs())?;
    if !wants_ndjson(&headers) {
        let worker = st.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _ticket = ticket;
            judge::judge(&worker.sandbox, &worker.store, &req, |p| {
                count_pair(&worker, p);
                Ok(())
            })
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
        st.metrics.queue(st.admission.in_use());
        return Ok(Json(result).into_response());
    }
    // Streaming: a line per pair as it is judged, then the result (or the
    // error). A client that goes away stops the run at its next pair.
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let worker = st.clone();
    tokio::task::spawn_blocking(move || {
        let _ticket = ticket;
        let line = |v: serde_json::Value| Bytes::from(format!("{v}\n"));
        let r = judge::judge(&worker.sandbox, &worker.store, &req, |p| {
            count_pair(&worker, p);
            let v = serde_json::json!({ "pair": p });
            tx.blocking_send(line(v))
                .map_err(|_| codejury_pipeline::Error::Cancelled)
        });
        let last = match r {
            Ok(result) => serde_json::json!({ "result": result }),
            Err(e) => serde_json::json!({ "error": e.to_string(), "hint": e.hint() }),
        };
        let _ = tx.blocking_send(line(last));
        worker.metrics.queue(worker.admission.in_use());
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The benchmark a submit request names, loaded once per server.
fn dataset(st: &AppState, req: &SubmitRequest) -> Result<Arc<Dataset>, ApiError> {
    let bench = judge::submit_bench(req)?;
    let mut map = st.datasets.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = map.get(&bench) {
        return Ok(d.clone());
    }
    let d = Arc::new(Dataset::load(bench, None).map_err(codejury_pipeline::Error::from)?);
    map.insert(bench, d.clone());
    Ok(d)
}

async fn submit_route(State(st): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let req: SubmitRequest = parse(&body)?;
    drop(body);
    let ticket = admit(&st, 1)?;
    let worker = st.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _ticket = ticket;
        let data = dataset(&worker, &req)?;
        let r = judge::submit(&worker.sandbox, &worker.store, &data, &req)?;
        worker
            .metrics
            .pair(r.verdict.as_str(), Some(r.wall_ms / 1e3));
        Ok::<_, ApiError>(r)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    st.metrics.queue(st.admission.in_use());
    Ok(Json(result).into_response())
}
