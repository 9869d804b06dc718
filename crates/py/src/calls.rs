//! The functions `codejury._native` exports. Requests and results cross
//! the boundary as JSON in the shapes `codejury serve` speaks (the same
//! serde types), so the Python package and the server cannot drift apart;
//! the Python side turns them into typed dataclasses.

use crate::detach::detached;
use crate::errors::bad_argument;
use crate::runtime::{self, Settings};
use codejury_bench::{label as run_labels, Benchmark, LabelRequest};
use codejury_core::{PassMatrix, Problem, Rule};
use codejury_pipeline::config::LimitSettings;
use codejury_pipeline::judge::{judge as run_judge, JudgeRequest};
use codejury_pipeline::program::{run_program, ProgramRequest};
use codejury_pipeline::Error;
use codejury_store::CachedRunner;
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Labels are run this many samples at a time, so Ctrl-C stops a long
/// batch between chunks.
const LABEL_CHUNK: usize = 256;

fn parse<T: DeserializeOwned>(what: &str, json: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|e| bad_argument(format!("{what}: {e}")))
}

fn to_json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot encode: {e}")))
}

/// Sets the engine's workers, mode and interpreter and the store path.
#[pyfunction]
pub(crate) fn configure(settings: &str) -> PyResult<()> {
    runtime::configure(parse::<Settings>("settings", settings)?)
}

/// Whether the engine has started in this process.
#[pyfunction]
pub(crate) fn started() -> bool {
    runtime::started()
}

/// The isolation layers in force (starting the engine if needed).
#[pyfunction]
pub(crate) fn isolation(py: Python<'_>) -> PyResult<String> {
    let rt = runtime::get(py)?;
    to_json(&rt.sandbox.engine().isolation())
}

/// One problem's verdict matrix and each requested rule's pick.
#[pyfunction]
pub(crate) fn judge(py: Python<'_>, request: &str) -> PyResult<String> {
    let req: JudgeRequest = parse("judge request", request)?;
    let rt = runtime::get(py)?;
    let result = detached(py, |cancel| {
        run_judge(&rt.sandbox, &rt.store, &req, |_| {
            if cancel.is_cancelled() {
                Err(Error::Cancelled)
            } else {
                Ok(())
            }
        })
    })?;
    to_json(&result)
}

/// A whole program to run, as `/run_code` takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunCode {
    code: String,
    #[serde(default)]
    stdin: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    fetch_files: Vec<String>,
    #[serde(default)]
    limits: LimitSettings,
}

/// Runs one whole program with its stdin and files.
#[pyfunction]
pub(crate) fn run_code(py: Python<'_>, request: &str) -> PyResult<String> {
    let r: RunCode = parse("run_code request", request)?;
    let req = ProgramRequest {
        code: r.code,
        stdin: r.stdin,
        files: r.files,
        fetch_files: r.fetch_files,
        limits: r.limits,
    };
    let rt = runtime::get(py)?;
    let result = detached(py, |_| run_program(&rt.sandbox, &req))?;
    to_json(&result)
}

/// One sample to grade.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    task_id: String,
    #[serde(default)]
    completion: Option<String>,
    #[serde(default)]
    solution: Option<String>,
    /// A model's whole response: its program is extracted as `run` does
    /// (a fenced block defining the entry point, else a continuation of
    /// the prompt).
    #[serde(default)]
    response: Option<String>,
}

/// One sample's ground-truth verdict.
#[derive(Serialize)]
struct Labelled {
    task_id: String,
    passed: bool,
    verdict: codejury_core::Verdict,
    message: String,
    cpu_ms: f64,
    wall_ms: f64,
}

/// Grades samples against a benchmark's ground truth, through the store.
#[pyfunction]
#[pyo3(signature = (bench, samples, data=None))]
pub(crate) fn label(
    py: Python<'_>,
    bench: &str,
    samples: &str,
    data: Option<PathBuf>,
) -> PyResult<String> {
    let bench: Benchmark = bench
        .parse()
        .map_err(|e: codejury_bench::load::UnknownBenchmark| bad_argument(e.to_string()))?;
    let samples: Vec<Sample> = parse("samples", samples)?;
    let rt = runtime::get(py)?;
    let rows = detached(py, |cancel| {
        let data = rt.dataset(bench, data)?;
        let mut requests = Vec::with_capacity(samples.len());
        // Per sample: its request's index, or why its response held no program.
        let mut slots: Vec<Result<usize, String>> = Vec::with_capacity(samples.len());
        for (i, s) in samples.iter().enumerate() {
            let task = data.position(&s.task_id).ok_or_else(|| {
                Error::Config(format!(
                    "samples[{i}].task_id: {} is not a task of {bench}",
                    s.task_id
                ))
            })?;
            let problem = &data.problems[task].problem;
            let program = match (&s.response, &s.solution, &s.completion) {
                (Some(text), None, None) => rt
                    .sandbox
                    .language()
                    .candidate(text, problem)
                    .map_err(|r| format!("no program in the response ({})", reason(r))),
                (None, None, None) => {
                    return Err(Error::Config(format!(
                    "samples[{i}]: needs one of the fields `completion`, `solution` or `response`"
                )))
                }
                (None, solution, completion) => problem
                    .program(solution.as_deref(), completion.as_deref())
                    .ok_or_else(|| "no program".to_string()),
                _ => {
                    return Err(Error::Config(format!(
                    "samples[{i}]: `response` cannot be combined with `completion` or `solution`"
                )))
                }
            };
            slots.push(program.map(|program| {
                requests.push(LabelRequest { task, program });
                requests.len() - 1
            }));
        }
        let runner = CachedRunner::new(rt.sandbox.engine(), &rt.store);
        let mut labels = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(LABEL_CHUNK) {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            labels.extend(run_labels(&runner, &data, chunk, |_| {})?);
        }
        Ok(samples
            .iter()
            .zip(slots)
            .map(|(s, slot)| match slot {
                Ok(k) => {
                    let l = &labels[k];
                    Labelled {
                        task_id: s.task_id.clone(),
                        passed: l.passed,
                        verdict: l.verdict,
                        message: l.message.clone(),
                        cpu_ms: l.cpu_ms,
                        wall_ms: l.wall_ms,
                    }
                }
                Err(why) => Labelled {
                    task_id: s.task_id.clone(),
                    passed: false,
                    verdict: codejury_core::Verdict::Error,
                    message: why,
                    cpu_ms: 0.0,
                    wall_ms: 0.0,
                },
            })
            .collect::<Vec<_>>())
    })?;
    to_json(&rows)
}

/// A rule's pick on a pass matrix.
#[derive(Serialize)]
struct Choice {
    chosen: Option<usize>,
    tied: Vec<usize>,
}

/// Votes on a pass matrix (`matrix[i][j]`: candidate `i` passes test `j`)
/// with one rule; rows and columns are taken as distinct programs and
/// tests. No sandbox: the vote alone.
#[pyfunction]
pub(crate) fn select(matrix: Vec<Vec<bool>>, rule: &str) -> PyResult<String> {
    let rule: Rule = rule
        .parse()
        .map_err(|e: codejury_core::select::UnknownRule| bad_argument(e.to_string()))?;
    if let Some(width) = matrix.first().map(Vec::len) {
        if let Some(i) = matrix.iter().position(|r| r.len() != width) {
            return Err(bad_argument(format!(
                "matrix[{i}] has {} tests where matrix[0] has {width}: rows must be equally long",
                matrix[i].len()
            )));
        }
    }
    let tied = rule.select(&PassMatrix::distinct(matrix));
    to_json(&Choice {
        chosen: tied.first().copied(),
        tied,
    })
}

/// The candidate program in one model response (its fenced code block),
/// or why there is none: `(code, None)` or `(None, reason)`.
#[pyfunction]
#[pyo3(signature = (text, entry_point=""))]
pub(crate) fn extract(
    py: Python<'_>,
    text: &str,
    entry_point: &str,
) -> PyResult<(Option<String>, Option<String>)> {
    let rt = runtime::get(py)?;
    let problem = Problem {
        task_id: String::new(),
        prompt: String::new(),
        entry_point: entry_point.to_string(),
        reference: None,
    };
    Ok(match rt.sandbox.language().candidate(text, &problem) {
        Ok(code) => (Some(code), None),
        Err(reject) => (None, Some(reason(reject))),
    })
}

/// A discard reason's JSON name (`no-code-block`, `no-entry-point`, ...).
fn reason(reject: codejury_core::discard::Reject) -> String {
    serde_json::to_value(reject)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{reject:?}"))
}
