//! `label` and `verify-bench`: programs through a benchmark's ground truth
//! in the sandbox.

use crate::error::{Error, Result};
use crate::reporter::{Reporter, Stage};
use crate::session::Sandbox;
use codejury_bench::{label as run_labels, read_samples, BenchError, Dataset, Label, LabelRequest};
use codejury_core::Verdict;
use codejury_sandbox::Runner;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The ground-truth verdict of one sample: a line of `label --out`.
#[derive(Debug, Clone, Serialize)]
pub struct LabelRow {
    /// The task.
    pub task_id: String,
    /// Whether it is correct.
    pub passed: bool,
    /// The first non-pass verdict, or `pass`.
    pub verdict: Verdict,
    /// Why it failed.
    pub message: String,
    /// CPU milliseconds its ground truth took.
    pub cpu_ms: f64,
    /// Wall milliseconds.
    pub wall_ms: f64,
    /// The model that wrote it, when the file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Passed and total for one group of samples.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PassCount {
    /// Correct samples.
    pub passed: usize,
    /// All samples.
    pub total: usize,
    /// `passed / total`.
    pub pass_rate: f64,
}

/// The summary of `label`.
#[derive(Debug, Clone, Serialize)]
pub struct LabelSummary {
    /// The benchmark.
    pub bench: String,
    /// Samples labelled.
    pub samples: usize,
    /// Correct samples.
    pub passed: usize,
    /// `passed / samples`.
    pub pass_rate: f64,
    /// Wall seconds.
    pub seconds: f64,
    /// Pass counts per `source`.
    pub by_source: BTreeMap<String, PassCount>,
}

/// Labels every sample of `samples` (in input order) through `runner`: the
/// engine, or a [`CachedRunner`](codejury_store::CachedRunner) over it so a
/// rerun (or a resumed one) takes labels and the canonical solutions'
/// expected outputs from the store.
pub fn label_samples<R>(
    runner: &R,
    data: &Dataset,
    samples: &Path,
    reporter: &dyn Reporter,
) -> Result<(LabelSummary, Vec<LabelRow>)>
where
    R: Runner,
    Error: From<R::Error>,
{
    let samples_read = read_samples(samples)?;
    let mut requests = Vec::with_capacity(samples_read.len());
    for s in &samples_read {
        let task = data
            .position(&s.task_id)
            .ok_or_else(|| BenchError::UnknownTask {
                path: samples.to_path_buf(),
                line: s.line,
                task_id: s.task_id.clone(),
            })?;
        let problem = &data.problems[task].problem;
        let program = problem
            .program(s.solution.as_deref(), s.completion.as_deref())
            .unwrap_or_default();
        requests.push(LabelRequest { task, program });
    }
    let start = Instant::now();
    let labels = labels(runner, data, &requests, reporter, Stage::Labels)?;
    let seconds = start.elapsed().as_secs_f64();
    let rows: Vec<LabelRow> = samples_read
        .iter()
        .zip(&labels)
        .map(|(s, l)| LabelRow {
            task_id: s.task_id.clone(),
            passed: l.passed,
            verdict: l.verdict,
            message: l.message.clone(),
            cpu_ms: (l.cpu_ms * 1000.0).round() / 1000.0,
            wall_ms: (l.wall_ms * 1000.0).round() / 1000.0,
            source: s.source.clone(),
        })
        .collect();
    let mut by_source: BTreeMap<String, PassCount> = BTreeMap::new();
    for r in &rows {
        let e = by_source
            .entry(r.source.clone().unwrap_or_else(|| "-".into()))
            .or_default();
        e.passed += usize::from(r.passed);
        e.total += 1;
    }
    for e in by_source.values_mut() {
        e.pass_rate = e.passed as f64 / e.total.max(1) as f64;
    }
    let passed = rows.iter().filter(|r| r.passed).count();
    let bench = data.bench.map_or("-", |b| b.as_str()).to_string();
    Ok((
        LabelSummary {
            bench,
            samples: rows.len(),
            passed,
            pass_rate: passed as f64 / rows.len().max(1) as f64,
            seconds,
            by_source,
        },
        rows,
    ))
}

fn labels<R>(
    runner: &R,
    data: &Dataset,
    requests: &[LabelRequest],
    reporter: &dyn Reporter,
    stage: Stage,
) -> Result<Vec<Label>>
where
    R: Runner,
    Error: From<R::Error>,
{
    reporter.start(&stage, requests.len() as u64, 0);
    let labels =
        run_labels(runner, data, requests, |_| reporter.advance(&stage, 1)).map_err(Error::from)?;
    reporter.finish(&stage);
    Ok(labels)
}

/// A canonical solution that failed its own ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyFailure {
    /// The task.
    pub task_id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub message: String,
}

/// The summary of `verify-bench`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifySummary {
    /// The benchmark.
    pub bench: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Canonical solutions that pass.
    pub passed: usize,
    /// Canonical solutions run.
    pub total: usize,
    /// Problems without a canonical solution.
    pub without_canonical: usize,
    /// Wall seconds.
    pub seconds: f64,
    /// Each failure with its reason.
    pub failures: Vec<VerifyFailure>,
}

/// Runs every canonical solution of `data` through its own ground truth.
pub fn verify(sandbox: &Sandbox, data: &Dataset, reporter: &dyn Reporter) -> Result<VerifySummary> {
    let start = Instant::now();
    let requests: Vec<LabelRequest> = data
        .problems
        .iter()
        .enumerate()
        .filter_map(|(task, p)| {
            p.canonical
                .clone()
                .map(|program| LabelRequest { task, program })
        })
        .collect();
    let labels = labels(sandbox.engine(), data, &requests, reporter, Stage::Verify)?;
    let failures = requests
        .iter()
        .zip(&labels)
        .filter(|(_, l)| !l.passed)
        .map(|(r, l)| VerifyFailure {
            task_id: data.problems[r.task].problem.task_id.clone(),
            verdict: l.verdict,
            message: l.message.clone(),
        })
        .collect();
    Ok(VerifySummary {
        bench: data.bench.map_or("-", |b| b.as_str()).to_string(),
        path: data.path.clone(),
        passed: labels.iter().filter(|l| l.passed).count(),
        total: requests.len(),
        without_canonical: data.problems.len() - requests.len(),
        seconds: start.elapsed().as_secs_f64(),
        failures,
    })
}
