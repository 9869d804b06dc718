//! `codejury run`: the whole pipeline from a model to a report.

use crate::args::{parse_rule, BackendArgs, BenchArgs, EngineArgs, LimitArgs, StoreArgs};
use crate::output::{cancelled_or, Output};
use crate::progress::Progress;
use crate::signals::cancel_on_ctrl_c;
use anyhow::{Context, Result};
use codejury_core::prompt::TestStyle;
use codejury_core::Rule;
use codejury_pipeline::config::{RunConfig, SamplingSettings};
use codejury_pipeline::generate::total_usage;
use codejury_pipeline::{open_store, run, Sandbox};
use std::path::PathBuf;
use std::process::ExitCode;

/// How unit tests are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Style {
    /// CodeRM's prompt: one `unittest.TestCase` class per generation.
    Coderm,
    /// CodeT's prompt: `assert` lines, each one test.
    Codet,
}

/// Flags of `run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    bench: BenchArgs,
    #[command(flatten)]
    backends: BackendArgs,
    /// Candidate solutions sampled per problem.
    #[arg(short = 'n', long = "solutions", default_value_t = 4)]
    n: usize,
    /// Unit-test generations sampled per problem (with --test-budget, the
    /// most any one problem gets).
    #[arg(short = 'm', long = "tests", default_value_t = 4)]
    m: usize,
    /// Spend an average of this many test generations per problem, bought
    /// in rounds by the online allocator: after each round every problem's
    /// vote is scored for how likely its next generations are to move it to
    /// a larger group of candidates, and the next round goes to the top of
    /// that ranking (see `scale`). Without it every problem gets -m.
    #[arg(long)]
    test_budget: Option<usize>,
    /// Problems that get one more test generation per round of
    /// --test-budget (more per round: fewer, larger batches for the server;
    /// fewer: each purchase sees the verdicts of the one before).
    #[arg(long, default_value_t = 16)]
    round_size: usize,
    /// Only the first this-many problems of the benchmark.
    #[arg(long)]
    limit: Option<usize>,
    /// The rule whose picks are written as `selected` in problems.jsonl
    /// (the report has every rule).
    #[arg(long, default_value = "coderm", value_parser = parse_rule)]
    rule: Rule,
    /// How tests are asked for.
    #[arg(long, value_enum, default_value = "coderm")]
    test_style: Style,
    /// Sampling temperature (the paper: 0.8).
    #[arg(long, default_value_t = 0.8)]
    temperature: f64,
    /// Nucleus sampling mass (the paper: 0.95).
    #[arg(long, default_value_t = 0.95)]
    top_p: f64,
    /// Most new tokens per candidate.
    #[arg(long, default_value_t = 512)]
    max_tokens: u32,
    /// Most new tokens per test generation.
    #[arg(long, default_value_t = 768)]
    test_max_tokens: u32,
    /// Base sampling seed (sample k of a prompt uses seed + k).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Directory for the report, plots, selections and per-problem costs.
    #[arg(long, default_value = "codejury-run")]
    out: PathBuf,
    /// Bootstrap repeats per point of the scaling curves.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let config = RunConfig {
        bench: args.bench.spec(),
        backends: args.backends.settings(),
        n: args.n,
        m: args.m,
        test_budget: args.test_budget,
        round_size: args.round_size,
        limit: args.limit,
        rule: args.rule,
        test_style: match args.test_style {
            Style::Coderm => TestStyle::Coderm,
            Style::Codet => TestStyle::Codet,
        },
        sampling: SamplingSettings {
            temperature: args.temperature,
            top_p: args.top_p,
            max_tokens: args.max_tokens,
            test_max_tokens: args.test_max_tokens,
            seed: args.seed,
        },
        out: args.out,
        repeats: args.repeats,
        limits: args.limits.settings(),
        engine: args.engine.settings_for(args.bench.bench.language()),
        store: args.store.store,
    };
    config.validate()?;
    let cancel = cancel_on_ctrl_c();
    // The binary owns the runtime model calls run on; the library never does.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let store = open_store(config.store.as_deref())?;
    let sandbox = Sandbox::start(&config.engine)?;
    let progress = Progress::new(false);
    let outcome = match run::run(
        &sandbox,
        &store,
        &config,
        runtime.handle(),
        &progress,
        &cancel,
    ) {
        Ok(o) => o,
        Err(e) => return cancelled_or(e, Some(store.path())),
    };
    let s = &outcome.summary;
    out.summary(s, || {
        print!("{}", s.report.table());
        for (name, stage, (backend, identity)) in [
            ("solutions", &s.stages.solutions, &outcome.backends[0]),
            ("tests", &s.stages.tests, &outcome.backends[1]),
        ] {
            println!(
                "{name:>9}: {backend} ({identity}): {} new, {} from the store; {} prompt + {} generated tokens; {:.1}s ({:.1} tokens/s)",
                stage.samples_new,
                stage.samples_stored,
                stage.prompt_tokens,
                stage.completion_tokens,
                stage.wall_seconds,
                if stage.wall_seconds > 0.0 && stage.samples_new > 0 {
                    stage.completion_tokens as f64 / stage.model_seconds.max(1e-9)
                } else {
                    0.0
                },
            );
        }
        let e = &s.stages.exec;
        println!(
            "     exec: {} pairs, {} executions run, {} from the store; labels {:.1}s, exec {:.1}s; total {:.1}s; report in {}",
            e.pairs,
            e.executed,
            e.from_store,
            e.label_seconds,
            e.exec_seconds,
            s.seconds.total,
            s.out.display()
        );
    })?;
    let _ = total_usage;
    for (name, n) in &outcome.missing {
        eprintln!("warning: the replay file lacks {n} of the {name} asked for");
    }
    if outcome.failed_requests > 0 {
        eprintln!(
            "error: {} model requests failed after their retries (see the warnings above); the report covers what was generated; finished work is kept in {}; run the same command again to resume",
            outcome.failed_requests,
            store.path().display()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
