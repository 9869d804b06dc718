//! `codejury label`: ground-truth labels for a file of samples.

use crate::common::{progress, BenchArgs, EngineArgs, Output};
use anyhow::{Context, Result};
use codejury_bench::{label, read_samples, BenchError, LabelRequest};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Flags of `label`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    bench: BenchArgs,
    /// JSONL of samples: `task_id` and `solution` (a whole program) or
    /// `completion` (a body for the prompt); `source` groups the pass rates.
    #[arg(long)]
    samples: PathBuf,
    /// Where to write one label per sample, in input order.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let data = args.bench.load()?;
    let samples = read_samples(&args.samples)?;
    let mut requests = Vec::with_capacity(samples.len());
    for s in &samples {
        let task = data
            .position(&s.task_id)
            .ok_or_else(|| BenchError::UnknownTask {
                path: args.samples.clone(),
                line: s.line,
                task_id: s.task_id.clone(),
            })?;
        let problem = &data.problems[task].problem;
        let program = problem
            .program(s.solution.as_deref(), s.completion.as_deref())
            .unwrap_or_default();
        requests.push(LabelRequest { task, program });
    }
    let engine = args.engine.engine()?;
    let start = Instant::now();
    let bar = progress(requests.len() as u64, "labelling");
    let labels = label(&engine, &data, &requests, |_| bar.inc(1))?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    if let Some(path) = &args.out {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        for (s, l) in samples.iter().zip(&labels) {
            let mut row = json!({
                "task_id": s.task_id,
                "passed": l.passed,
                "verdict": l.verdict,
                "message": l.message,
            });
            if let Some(src) = &s.source {
                row["source"] = json!(src);
            }
            writeln!(w, "{row}")?;
        }
        w.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut by_source: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (s, l) in samples.iter().zip(&labels) {
        let e = by_source
            .entry(s.source.clone().unwrap_or_else(|| "-".into()))
            .or_default();
        e.0 += usize::from(l.passed);
        e.1 += 1;
    }
    let passed = labels.iter().filter(|l| l.passed).count();
    let summary = json!({
        "bench": args.bench.bench.as_str(),
        "samples": samples.len(),
        "passed": passed,
        "pass_rate": passed as f64 / samples.len().max(1) as f64,
        "seconds": secs,
        "by_source": by_source.iter().map(|(k, (p, n))| (k.clone(), json!({"passed": p, "total": n, "pass_rate": *p as f64 / (*n).max(1) as f64}))).collect::<serde_json::Map<_, _>>(),
    });
    out.summary(&summary, || {
        println!(
            "{:<24} {:>7} {:>7} {:>8}",
            "source", "passed", "total", "rate"
        );
        for (k, (p, n)) in &by_source {
            println!(
                "{k:<24} {p:>7} {n:>7} {:>7.2}%",
                100.0 * *p as f64 / (*n).max(1) as f64
            );
        }
        println!(
            "{:<24} {passed:>7} {:>7} {:>7.2}%   ({secs:.1}s)",
            "all",
            samples.len(),
            100.0 * passed as f64 / samples.len().max(1) as f64
        );
    });
    Ok(ExitCode::SUCCESS)
}
