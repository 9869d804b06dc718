//! `codejury exec`: the verdict matrix of solutions × tests, from files.

use crate::args::{parse_bench, EngineArgs, LimitArgs, StoreArgs};
use crate::output::{cancelled_or, Output};
use crate::progress::Progress;
use crate::signals::cancel_on_ctrl_c;
use anyhow::Result;
use codejury_bench::Benchmark;
use codejury_pipeline::config::{BenchSpec, ExecConfig};
use codejury_pipeline::{exec, open_store, Error, Sandbox};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `exec`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// JSONL of solutions: `task_id` and `solution` (a whole program) or
    /// `completion` (appended to the problem's prompt).
    #[arg(long)]
    solutions: PathBuf,
    /// JSONL of tests: `task_id` and `test`, optionally `format`.
    #[arg(long)]
    tests: PathBuf,
    /// Format of every test (for Python: unittest, assert or check)
    /// [default: the line's `format`, else detected per test].
    #[arg(long)]
    test_format: Option<String>,
    /// JSONL of problems (`task_id`, `prompt`, `entry_point`) for completions
    /// and check-format tests.
    #[arg(long, conflicts_with = "bench")]
    problems: Option<PathBuf>,
    /// A benchmark to take prompts and entry points from.
    #[arg(long, value_parser = parse_bench)]
    bench: Option<Benchmark>,
    /// A local copy of the benchmark file.
    #[arg(long, requires = "bench")]
    data: Option<PathBuf>,
    /// Where to write one verdict per (solution, test) pair, as JSONL.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let config = ExecConfig {
        solutions: args.solutions,
        tests: args.tests,
        test_format: args.test_format,
        problems: args.problems,
        bench: args.bench.map(|bench| BenchSpec {
            bench,
            data: args.data,
        }),
        limits: args.limits.settings(),
        engine: args
            .engine
            .settings_for(args.bench.map_or(Default::default(), |b| b.language())),
        store: args.store.store,
    };
    let cancel = cancel_on_ctrl_c();
    let sandbox = Sandbox::start(&config.engine)?;
    let store = open_store(config.store.as_deref())?;
    let write_error = |source| Error::Write {
        path: args.out.clone(),
        source,
    };
    let file = std::fs::File::create(&args.out).map_err(write_error)?;
    let mut w = std::io::BufWriter::new(file);
    let result = exec::exec(
        &sandbox,
        &store,
        &config,
        &Progress::new(false),
        &cancel,
        |row| {
            let line =
                serde_json::to_string(row).map_err(|e| write_error(std::io::Error::other(e)))?;
            writeln!(w, "{line}").map_err(write_error)
        },
    );
    w.flush().map_err(write_error)?;
    let s = match result {
        Ok(s) => s,
        Err(e) => return cancelled_or(e, Some(store.path())),
    };
    out.summary(&s, || {
        println!(
            "{} pairs ({} solutions, {} tests; {} run, {} from the store) in {:.2}s: {:.0} pairs/s -> {}",
            s.pairs,
            s.solutions,
            s.tests,
            s.executed,
            s.cached,
            s.seconds,
            s.pairs_per_second,
            args.out.display()
        );
        for (v, n) in &s.verdicts {
            println!("  {v:<14} {n}");
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
