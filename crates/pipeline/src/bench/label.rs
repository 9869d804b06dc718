//! `bench label`: ground-truth labelling against EvalPlus's own evaluator,
//! side by side on the same samples, with label agreement.
//!
//! (a) `codejury label` on a fresh store: the canonical solutions' expected
//!     outputs computed once per task, then every sample checked;
//! (b) EvalPlus 0.3.1's `evalplus.evaluate` (from PyPI, in a Python the
//!     user names) with a fresh cache, so it computes its expected outputs
//!     too, `--parallel` the same number of workers.

use super::samples_path;
use crate::config::EngineSettings;
use crate::error::{config, Error, Result};
use crate::label::label_samples;
use crate::reporter::Reporter;
use crate::session::Sandbox;
use codejury_bench::{read_samples, Benchmark, Dataset};
use codejury_store::{CachedRunner, Store};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Settings of `bench label`.
#[derive(Debug, Clone)]
pub struct LabelBenchConfig {
    /// HumanEval+ or MBPP+.
    pub bench: Benchmark,
    /// The benchmark file (`None`: `$CODEJURY_DATA_DIR`, the cache, or fetched).
    pub data: Option<PathBuf>,
    /// The samples (`None`: the 5-model HumanEval samples under
    /// `$CODEJURY_DATA_DIR`).
    pub samples: Option<PathBuf>,
    /// A Python with `evalplus==0.3.1` installed (`None`:
    /// `$CODEJURY_EVALPLUS_PYTHON`, else `~/.cache/codejury-evalplus-venv`).
    pub evalplus_python: Option<PathBuf>,
    /// Only the benchmark's first K tasks and their samples (`None`: all):
    /// both labellers get the same cut of the benchmark file.
    pub tasks: Option<usize>,
    /// The sandbox.
    pub engine: EngineSettings,
}

/// The result of `bench label`.
#[derive(Debug, Clone, Serialize)]
pub struct LabelBench {
    /// The benchmark.
    pub bench: String,
    /// Samples labelled.
    pub samples: usize,
    /// Workers of both.
    pub workers: usize,
    /// codejury's wall seconds, expected outputs included.
    pub codejury_seconds: f64,
    /// codejury's correct samples.
    pub codejury_passed: usize,
    /// EvalPlus's wall seconds, expected outputs included.
    pub evalplus_seconds: f64,
    /// The part of it EvalPlus says went to computing expected outputs.
    pub evalplus_expected_seconds: Option<f64>,
    /// EvalPlus's correct samples (base and plus both pass).
    pub evalplus_passed: usize,
    /// Samples on which both agree.
    pub agreement: usize,
    /// The samples they disagree on: task, codejury's verdict and message,
    /// EvalPlus's statuses.
    pub disagreements: Vec<String>,
    /// EvalPlus seconds over codejury seconds.
    pub ratio: f64,
}

/// The Python with EvalPlus: the flag, `$CODEJURY_EVALPLUS_PYTHON`, or the
/// venv the README's setup makes.
fn evalplus_python(given: &Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    if let Some(p) = std::env::var_os("CODEJURY_EVALPLUS_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").ok_or_else(|| {
        config("pass --evalplus-python (a Python with evalplus==0.3.1 installed)")
    })?;
    let p = Path::new(&home).join(".cache/codejury-evalplus-venv/bin/python");
    if p.exists() {
        Ok(p)
    } else {
        Err(config(format!(
            "no EvalPlus baseline: {} does not exist; make it with `python3 -m venv ~/.cache/codejury-evalplus-venv && ~/.cache/codejury-evalplus-venv/bin/pip install evalplus==0.3.1`, or pass --evalplus-python",
            p.display()
        )))
    }
}

fn baseline_error(message: String) -> Error {
    Error::Baseline {
        what: "bench label (EvalPlus)".into(),
        message,
    }
}

/// Writes the benchmark's first `k` tasks, and the samples of those
/// tasks, as plain JSONL into `dir`; returns their paths.
fn first_tasks(data: &Dataset, samples: &Path, k: usize, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    use std::io::{BufRead, Write};
    let io = |path: &Path, e: std::io::Error| baseline_error(format!("{}: {e}", path.display()));
    // `keep` sees each non-blank line with its 1-based number.
    let write_lines =
        |from: &Path, to: &Path, keep: &mut dyn FnMut(usize, &str) -> Result<bool>| {
            let mut out = std::fs::File::create(to).map_err(|e| io(to, e))?;
            for (i, line) in codejury_bench::jsonl::open(from)?.lines().enumerate() {
                let line = line.map_err(|e| io(from, e))?;
                if !line.trim().is_empty() && keep(i + 1, &line)? {
                    writeln!(out, "{line}").map_err(|e| io(to, e))?;
                }
            }
            Ok::<_, Error>(())
        };
    let data_k = dir.join("benchmark-first-tasks.jsonl");
    let mut taken = 0;
    write_lines(&data.path, &data_k, &mut |_, _| {
        taken += 1;
        Ok(taken <= k)
    })?;
    let keep: std::collections::HashSet<&str> = data
        .problems
        .iter()
        .take(k)
        .map(|p| p.problem.task_id.as_str())
        .collect();
    let samples_k = dir.join("samples-first-tasks.jsonl");
    write_lines(samples, &samples_k, &mut |line_no, line| {
        let task = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("task_id")?.as_str().map(str::to_owned))
            .ok_or_else(|| {
                config(format!(
                    "{}:{line_no}: field `task_id`: missing or not a string",
                    samples.display()
                ))
            })?;
        Ok(keep.contains(task.as_str()))
    })?;
    Ok((data_k, samples_k))
}

/// Runs `bench label`.
pub fn label(args: &LabelBenchConfig, reporter: &dyn Reporter) -> Result<LabelBench> {
    let dataset = match args.bench {
        Benchmark::HumanEvalPlus => "humaneval",
        Benchmark::MbppPlus => "mbpp",
        other => {
            return Err(config(format!(
                "bench label compares with EvalPlus: --bench humaneval-plus or mbpp-plus, not {}",
                other.as_str()
            )))
        }
    };
    let python = evalplus_python(&args.evalplus_python)?;
    let dir = tempfile::tempdir().map_err(|e| baseline_error(e.to_string()))?;
    let mut data = Dataset::load(args.bench, args.data.as_deref())?;
    let mut samples = samples_path(&args.samples)?;
    if let Some(k) = args.tasks {
        let (data_k, samples_k) = first_tasks(&data, &samples, k, dir.path())?;
        data = Dataset::load(args.bench, Some(&data_k))?;
        samples = samples_k;
    }
    let sandbox = Sandbox::start(&args.engine)?;
    let workers = args.engine.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });

    // (a) codejury, on a fresh store.
    let store = Store::open(&dir.path().join("store.sqlite"))?;
    let runner = CachedRunner::new(sandbox.engine(), &store);
    let start = Instant::now();
    let (summary, rows) = label_samples(&runner, &data, &samples, reporter)?;
    let codejury_seconds = start.elapsed().as_secs_f64();

    // (b) EvalPlus, with a cache of its own so it computes expected outputs.
    let samples_copy = dir.path().join("samples.jsonl");
    std::fs::copy(&samples, &samples_copy)
        .map_err(|e| baseline_error(format!("cannot copy {}: {e}", samples.display())))?;
    let override_var = match args.bench {
        Benchmark::MbppPlus => "MBPP_OVERRIDE_PATH",
        _ => "HUMANEVAL_OVERRIDE_PATH",
    };
    let start = Instant::now();
    let out = Command::new(&python)
        .args(["-m", "evalplus.evaluate", "--dataset", dataset, "--samples"])
        .arg(&samples_copy)
        .args(["--parallel", &workers.to_string(), "--i-just-wanna-run"])
        .env(override_var, &data.path)
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| baseline_error(format!("cannot start {}: {e}", python.display())))?;
    let evalplus_seconds = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(6).collect();
        return Err(baseline_error(format!(
            "evalplus.evaluate failed ({}): {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    let evalplus_expected_seconds = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Expected outputs computed in "))
        .and_then(|rest| rest.trim_end_matches('s').trim().parse().ok());
    let results_path = dir.path().join("samples_eval_results.json");
    let results: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&results_path)
            .map_err(|e| baseline_error(format!("{}: {e}", results_path.display())))?,
    )
    .map_err(|e| baseline_error(format!("{}: {e}", results_path.display())))?;

    // EvalPlus lists each task's samples in the order they came.
    let read = read_samples(&samples)?;
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    let mut agreement = 0;
    let mut evalplus_passed = 0;
    let mut disagreements = Vec::new();
    for (s, row) in read.iter().zip(&rows) {
        let k = seen.entry(s.task_id.as_str()).or_default();
        let r = &results["eval"][&s.task_id][*k];
        *k += 1;
        let status = |f: &str| r[f].as_str().unwrap_or("missing").to_string();
        let (base, plus) = (status("base_status"), status("plus_status"));
        let passed = base == "pass" && plus == "pass";
        evalplus_passed += usize::from(passed);
        if passed == row.passed {
            agreement += 1;
        } else {
            disagreements.push(format!(
                "{} (line {}): codejury {} ({}); EvalPlus base {base}, plus {plus}",
                s.task_id, s.line, row.verdict, row.message
            ));
        }
    }
    Ok(LabelBench {
        bench: args.bench.as_str().to_string(),
        samples: rows.len(),
        workers,
        codejury_seconds,
        codejury_passed: summary.passed,
        evalplus_seconds,
        evalplus_expected_seconds,
        evalplus_passed,
        agreement,
        disagreements,
        ratio: evalplus_seconds / codejury_seconds.max(1e-9),
    })
}
