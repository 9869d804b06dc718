//! `codejury scale`: how accuracy grows with the budget of test generations
//! under each allocation strategy, on a pool of pre-generated candidates and
//! tests.

use crate::args::parse_rule;
use crate::cmd::eval::PoolArgs;
use crate::output::{cancelled_or, Output};
use crate::progress::Progress;
use crate::signals::cancel_on_ctrl_c;
use anyhow::Result;
use codejury_core::Rule;
use codejury_pipeline::backend::parse_count as parse_params;
use codejury_pipeline::config::ScaleConfig;
use codejury_pipeline::{open_store, scale, Sandbox};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `scale`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    pool: PoolArgs,
    /// Directory for scale.json, scale.md, scale.svg (accuracy against
    /// generations) and scale-tests.svg (against tests run).
    #[arg(long)]
    out: PathBuf,
    /// Seeded shuffles of the order in which each problem's tests are bought.
    #[arg(long, default_value_t = 10)]
    repeats: usize,
    /// Seed of the shuffles.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The selection rule the budget is spent for.
    #[arg(long, default_value = "coderm", value_parser = parse_rule)]
    rule: Rule,
    /// The model whose hidden states feed the difficulty probe of
    /// `greedy-probe`: `embedded`, `embedded:FILE.gguf`, or `none`.
    #[arg(long, default_value = "embedded")]
    probe_model: String,
    /// Folds of the probe's cross-fitting (each problem is predicted by a
    /// probe that never saw it).
    #[arg(long, default_value_t = 5)]
    probe_folds: usize,
    /// CPU threads for the probe model.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The tokenizer that counts the pool's tokens for the compute curve:
    /// `embedded` (SmolLM2-135M's BPE), `embedded:FILE.gguf`, or `none`.
    #[arg(long, default_value = "embedded")]
    tokenizer: String,
    /// The policy's parameters (e.g. 16B), for FLOPs = 2 × parameters × tokens.
    #[arg(long, value_parser = parse_params)]
    policy_params: Option<u64>,
    /// The tester's parameters.
    #[arg(long, value_parser = parse_params)]
    tester_params: Option<u64>,
    /// Folds of problems over which the online allocator's horizon is
    /// tuned on K−1 and scored on the held-out one (0: skip).
    #[arg(long, default_value_t = 5)]
    folds: usize,
}

impl Args {
    /// The run directory these flags name, if any.
    pub fn run_dir(&self) -> Option<&std::path::Path> {
        self.pool.run_dir()
    }

    /// The same flags on another run directory, reporting into `out`.
    pub fn on_run(mut self, dir: PathBuf, out: PathBuf) -> Args {
        self.pool = self.pool.on_run(dir);
        self.out = out;
        self
    }

    /// The directory the report goes into.
    pub fn out(&self) -> &std::path::Path {
        &self.out
    }

    /// The pipeline's settings (`study` takes the same flags); a run
    /// directory's model sizes stand where the flags give none.
    pub fn config(self) -> Result<ScaleConfig> {
        let (eval, record) = self.pool.config(self.out, self.repeats, self.seed)?;
        Ok(ScaleConfig {
            eval,
            rule: self.rule,
            probe_model: self.probe_model,
            probe_folds: self.probe_folds,
            threads: self.threads,
            tokenizer: self.tokenizer,
            policy_params: self.policy_params.or(record.policy_params),
            tester_params: self.tester_params.or(record.tester_params),
            folds: self.folds,
        })
    }
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let config = args.config()?;
    let cancel = cancel_on_ctrl_c();
    let sandbox = Sandbox::start(&config.eval.engine)?;
    let store = open_store(config.eval.store.as_deref())?;
    let progress = Progress::new(false);
    let (summary, table) = match scale::scale(&sandbox, &store, &config, &progress, &cancel) {
        Ok(x) => x,
        Err(e) => return cancelled_or(e, Some(store.path())),
    };
    out.summary(&summary, || print!("{table}"))?;
    Ok(ExitCode::SUCCESS)
}
