//! `codejury label`: ground-truth labels for a file of samples.

use crate::args::{BenchArgs, EngineArgs};
use crate::output::Output;
use crate::progress::Progress;
use anyhow::{Context, Result};
use codejury_pipeline::{label, open_store, Sandbox};
use codejury_store::CachedRunner;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// The run store (SQLite): labels and the canonical solutions' expected
    /// outputs are kept by content, so a rerun or a killed run's resume
    /// computes nothing twice [default: $CODEJURY_CACHE_DIR/store.sqlite].
    #[arg(long)]
    store: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let data = args.bench.spec().load()?;
    let sandbox = Sandbox::start(&args.engine.settings_for(args.bench.bench.language()))?;
    let store = open_store(args.store.as_deref())?;
    let runner = CachedRunner::new(sandbox.engine(), &store);
    let (s, rows) = label::label_samples(&runner, &data, &args.samples, &Progress::new(false))?;
    if let Some(path) = &args.out {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        for r in &rows {
            writeln!(w, "{}", serde_json::to_string(r)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        w.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    out.summary(&s, || {
        println!(
            "{:<24} {:>7} {:>7} {:>8}",
            "source", "passed", "total", "rate"
        );
        for (k, c) in &s.by_source {
            println!(
                "{k:<24} {:>7} {:>7} {:>7.2}%",
                c.passed,
                c.total,
                100.0 * c.pass_rate
            );
        }
        println!(
            "{:<24} {:>7} {:>7} {:>7.2}%   ({:.1}s)",
            "all",
            s.passed,
            s.samples,
            100.0 * s.pass_rate,
            s.seconds
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
