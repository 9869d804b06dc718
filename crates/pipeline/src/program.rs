//! Running one whole program with its stdin and files, as a code-running
//! service is asked to (SandboxFusion's `/run_code`, which verl calls once
//! per test case): the program's stdout, stderr and exit code, under the
//! same walls and limits as every pair. Not cached: a program may read
//! the clock or draw random numbers, and a caller asking twice expects two
//! runs.

use crate::config::LimitSettings;
use crate::error::{config, Error, Result};
use crate::session::Sandbox;
use codejury_core::Verdict;
use codejury_sandbox::{sinks, Job, PairOutcome, SandboxError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One program to run.
#[derive(Debug, Clone, Default)]
pub struct ProgramRequest {
    /// The program's source.
    pub code: String,
    /// What its stdin reads.
    pub stdin: Option<String>,
    /// Files to place in its working directory first: relative path →
    /// base64 content.
    pub files: BTreeMap<String, String>,
    /// Files (relative paths) to bring back after it ends.
    pub fetch_files: Vec<String>,
    /// Its limits; `output_kb` caps stdout and stderr each.
    pub limits: LimitSettings,
}

/// How a program ended.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramResult {
    /// `pass`: it ran to its end (whatever its exit code); `timeout`,
    /// `memory`: a limit stopped it; anything else: it could not run.
    pub verdict: Verdict,
    /// Why it did not run to its end.
    pub message: String,
    /// Its exit code, when it ran to its end.
    pub return_code: Option<i64>,
    /// What it printed on stdout (cut at the cap).
    pub stdout: String,
    /// What it printed on stderr (cut at the cap).
    pub stderr: String,
    /// Whether either stream was cut.
    pub truncated: bool,
    /// The fetched files that existed: path → base64 content.
    pub files: BTreeMap<String, String>,
    /// CPU milliseconds.
    pub cpu_ms: f64,
    /// Wall milliseconds.
    pub wall_ms: f64,
}

/// What the program test leaves as its value.
#[derive(Deserialize)]
struct Ran {
    stdout: String,
    stderr: String,
    return_code: i64,
    truncated: bool,
    #[serde(default)]
    files: BTreeMap<String, String>,
}

/// A path a request may name: relative, inside the working directory.
fn check_path(field: &str, path: &str) -> Result<()> {
    let p = std::path::Path::new(path);
    let inside = !path.is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if inside {
        Ok(())
    } else {
        Err(config(format!(
            "field `{field}`: {path:?} must be a relative path inside the working directory"
        )))
    }
}

/// Runs one program in the sandbox.
pub fn run_program(sandbox: &Sandbox, req: &ProgramRequest) -> Result<ProgramResult> {
    for path in req.files.keys() {
        check_path("files", path)?;
    }
    for path in &req.fetch_files {
        check_path("fetch_files", path)?;
    }
    let language = sandbox.language();
    let spec = serde_json::json!({
        "code": req.code,
        "stdin": req.stdin,
        "files": req.files,
        "fetch_files": req.fetch_files,
        "output_cap": req.limits.output_kb.saturating_mul(1024),
    });
    let test = language.program_test(spec.to_string()).ok_or_else(|| {
        config(format!(
            "running whole {} programs is not supported yet",
            language.name()
        ))
    })?;
    let job = Job {
        candidate: String::new(),
        entry_point: None,
        prelude: None,
        tests: vec![test],
        limits: req.limits.limits(),
    };
    let mut outcome: Option<PairOutcome> = None;
    sandbox.engine().run(
        vec![job],
        &mut sinks::from_fn(|o: PairOutcome| {
            outcome = Some(o);
            Ok::<_, SandboxError>(true)
        }),
    )?;
    let o = outcome.ok_or_else(|| Error::Lost("no outcome for the program".into()))?;
    let mut r = ProgramResult {
        verdict: o.verdict,
        message: o.message,
        return_code: None,
        stdout: String::new(),
        stderr: String::new(),
        truncated: false,
        files: BTreeMap::new(),
        cpu_ms: o.cpu_ms,
        wall_ms: o.wall_ms,
    };
    if o.verdict == Verdict::Pass {
        let ran: Ran = o
            .value
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok())
            .ok_or_else(|| {
                Error::Lost("the program ran but its output did not come back".into())
            })?;
        r.return_code = Some(ran.return_code);
        r.stdout = ran.stdout;
        r.stderr = ran.stderr;
        r.truncated = ran.truncated;
        r.files = ran.files;
    }
    Ok(r)
}
