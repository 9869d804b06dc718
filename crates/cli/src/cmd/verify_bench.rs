//! `codejury verify-bench`: every canonical solution through its own ground
//! truth — proof that the loaders, the ground truth and the sandbox agree
//! with the benchmark's authors.

use crate::args::{BenchArgs, EngineArgs};
use crate::output::Output;
use crate::progress::Progress;
use anyhow::Result;
use codejury_pipeline::{label, Sandbox};
use std::process::ExitCode;

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
    let data = args.bench.spec().load()?;
    let sandbox = Sandbox::start(&args.engine.settings_for(args.bench.bench.language()))?;
    let s = label::verify(&sandbox, &data, &Progress::new(false))?;
    out.summary(&s, || {
        println!(
            "{}: {}/{} canonical solutions pass their ground truth in {:.1}s ({})",
            s.bench,
            s.passed,
            s.total,
            s.seconds,
            s.path.display()
        );
        if s.without_canonical > 0 {
            println!(
                "  {} tasks have no canonical solution to verify",
                s.without_canonical
            );
        }
        for f in &s.failures {
            println!("  FAIL {} [{}] {}", f.task_id, f.verdict, f.message);
        }
    })?;
    Ok(if s.passed == s.total {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
