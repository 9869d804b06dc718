//! SandboxFusion's `/run_code`, with its request and response shapes, so
//! its official client and verl's reward code work unchanged. The program
//! runs under the same walls as every pair; its output is captured as it
//! is written (a program printing a megabyte finishes normally), and a
//! request waits for room in the queue up to the server's wait and then
//! gets the 504 verl retries, never a 429 it would score as a failure.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use codejury_core::Verdict;
use codejury_pipeline::config::LimitSettings;
use codejury_pipeline::program::{run_program, ProgramRequest, ProgramResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

fn ten() -> f64 {
    10.0
}

/// SandboxFusion's request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunCodeRequest {
    code: String,
    language: String,
    #[serde(default = "ten")]
    compile_timeout: f64,
    #[serde(default = "ten")]
    run_timeout: f64,
    #[serde(default, rename = "memory_limit_MB")]
    memory_limit_mb: Option<i64>,
    #[serde(default)]
    stdin: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, Option<String>>,
    #[serde(default)]
    fetch_files: Vec<String>,
}

/// SandboxFusion's result of one command.
#[derive(Debug, Serialize)]
struct CommandRunResult {
    /// `Finished`, `Error` or `TimeLimitExceeded`.
    status: &'static str,
    execution_time: Option<f64>,
    cpu_time: Option<f64>,
    return_code: Option<i64>,
    stdout: Option<String>,
    stderr: Option<String>,
}

/// SandboxFusion's response.
#[derive(Debug, Serialize)]
struct RunCodeResponse {
    /// `Success`, `Failed` or `SandboxError`.
    status: &'static str,
    message: String,
    compile_result: Option<CommandRunResult>,
    run_result: Option<CommandRunResult>,
    executor_pod_name: Option<String>,
    files: BTreeMap<String, String>,
}

fn respond(r: ProgramResult) -> RunCodeResponse {
    let seconds = Some(r.wall_ms / 1e3);
    let cpu = Some(r.cpu_ms / 1e3);
    // A program a limit or a failure stopped: no exit code, the reason on
    // stderr.
    let why = r.message.clone();
    let stopped = |status: &'static str| {
        (
            "Failed",
            CommandRunResult {
                status,
                execution_time: seconds,
                cpu_time: cpu,
                return_code: None,
                stdout: Some(String::new()),
                stderr: Some(why.clone()),
            },
        )
    };
    let (status, run) = match r.verdict {
        Verdict::Pass => {
            let ok = r.return_code == Some(0);
            let mut stderr = r.stderr;
            if r.truncated {
                stderr.push_str("\n[codejury: output cut at the limit]\n");
            }
            (
                if ok { "Success" } else { "Failed" },
                CommandRunResult {
                    status: "Finished",
                    execution_time: seconds,
                    cpu_time: cpu,
                    return_code: r.return_code,
                    stdout: Some(r.stdout),
                    stderr: Some(stderr),
                },
            )
        }
        Verdict::Timeout => stopped("TimeLimitExceeded"),
        Verdict::SandboxError => {
            return RunCodeResponse {
                status: "SandboxError",
                message: r.message,
                compile_result: None,
                run_result: None,
                executor_pod_name: None,
                files: BTreeMap::new(),
            }
        }
        _ => stopped("Error"),
    };
    RunCodeResponse {
        status,
        message: if status == "Success" {
            String::new()
        } else {
            r.message
        },
        compile_result: None,
        run_result: Some(run),
        executor_pod_name: None,
        files: r.files,
    }
}

fn program(st: &AppState, req: RunCodeRequest) -> Result<ProgramRequest, ApiError> {
    if !matches!(req.language.as_str(), "python" | "python3") {
        return Err(ApiError::bad_request(format!(
            "field `language`: {:?} is not run by this server (it runs python)",
            req.language
        )));
    }
    let positive = |field: &str, s: f64| {
        if s.is_finite() && s > 0.0 {
            Ok(s)
        } else {
            Err(ApiError::bad_request(format!(
                "field `{field}`: {s} is not a positive number of seconds"
            )))
        }
    };
    positive("compile_timeout", req.compile_timeout)?;
    let timeout_ms = (positive("run_timeout", req.run_timeout)? * 1000.0).ceil() as u64;
    if timeout_ms > st.max_timeout_ms {
        return Err(ApiError::bad_request(format!(
            "field `run_timeout`: {} s is above this server's maximum ({} s)",
            req.run_timeout,
            st.max_timeout_ms as f64 / 1e3
        )));
    }
    let mut limits = LimitSettings {
        timeout_ms,
        ..LimitSettings::default()
    };
    match req.memory_limit_mb {
        None | Some(-1) => {}
        Some(mb) if mb > 0 => limits.memory_mb = mb as u64,
        Some(mb) => {
            return Err(ApiError::bad_request(format!(
                "field `memory_limit_MB`: {mb} is neither -1 (the default) nor positive"
            )))
        }
    }
    Ok(ProgramRequest {
        code: req.code,
        stdin: req.stdin,
        files: req
            .files
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect(),
        fetch_files: req.fetch_files,
        limits,
    })
}

/// `POST /run_code`.
pub(crate) async fn run_code_route(
    State(st): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: RunCodeRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?;
    drop(body);
    let prog = program(&st, req)?;
    if st.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        ));
    }
    let ticket = st
        .admission
        .admit_within(1, st.queue_wait)
        .await
        .map_err(|_| {
            st.metrics.rejection("queue-wait");
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "no room in the queue within the server's wait; retry",
            )
        })?;
    st.metrics.queue(st.admission.in_use());
    let worker = st.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _ticket = ticket;
        run_program(&worker.sandbox, &prog)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    st.metrics
        .pair(result.verdict.as_str(), Some(result.wall_ms / 1e3));
    st.metrics.queue(st.admission.in_use());
    Ok(Json(respond(result)).into_response())
}
