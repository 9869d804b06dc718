//! `codejury verify-bench`: every canonical solution through its own ground
//! truth — proof that the loaders, the ground truth and the sandbox agree
//! with the benchmark's authors.

use crate::common::{progress, BenchArgs, EngineArgs, Output};
use anyhow::Result;
use codejury_bench::{label, LabelRequest};
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

/// Flags of `verify-bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    bench: BenchArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs the command; exits 1 if any canonical solution fails.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let data = args.bench.load()?;
    let engine = args.engine.engine()?;
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
    let bar = progress(requests.len() as u64, "verifying");
    let labels = label(&engine, &data, &requests, |_| bar.inc(1))?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let passed = labels.iter().filter(|l| l.passed).count();
    let failures: Vec<_> = requests
        .iter()
        .zip(&labels)
        .filter(|(_, l)| !l.passed)
        .map(|(r, l)| {
            json!({
                "task_id": data.problems[r.task].problem.task_id,
                "verdict": l.verdict,
                "message": l.message,
            })
        })
        .collect();
    let summary = json!({
        "bench": args.bench.bench.as_str(),
        "path": data.path,
        "passed": passed,
        "total": requests.len(),
        "without_canonical": data.problems.len() - requests.len(),
        "seconds": secs,
        "failures": failures,
    });
    out.summary(&summary, || {
        println!(
            "{}: {passed}/{} canonical solutions pass their ground truth in {secs:.1}s ({})",
            args.bench.bench,
            requests.len(),
            data.path.display()
        );
        for f in &failures {
            println!(
                "  FAIL {} [{}] {}",
                f["task_id"].as_str().unwrap_or("?"),
                f["verdict"].as_str().unwrap_or("?"),
                f["message"].as_str().unwrap_or("")
            );
        }
    });
    Ok(if passed == requests.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
