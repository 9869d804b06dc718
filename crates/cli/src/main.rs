//! `codejury`: pick the right program out of many LLM samples by letting
//! LLM-written unit tests vote.
//!
//! The binary is a thin caller of `codejury-pipeline`: it parses flags into
//! the pipeline's typed settings, draws progress, turns Ctrl-C into a
//! cancellation, and renders results and errors (with their hints).

mod args;
mod cmd;
mod output;
mod progress;
mod signals;

use clap::{Parser, Subcommand};
use codejury_pipeline::Hint;
use std::process::ExitCode;

/// Pick the right program out of many LLM samples by letting LLM-written unit tests vote.
#[derive(Parser)]
#[command(name = "codejury", version, about, long_about = None)]
struct Cli {
    /// Print the command's summary as one JSON object on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every canonical solution of a benchmark through its own ground truth.
    VerifyBench(cmd::verify_bench::Args),
    /// Label samples as correct or not with a benchmark's ground truth.
    Label(cmd::label::Args),
    /// Run every solution against every test of its task and write the verdicts.
    Exec(cmd::exec::Args),
    /// The candidate a rule picks per task, from `exec` verdicts.
    Select(cmd::select::Args),
    /// The whole pipeline: sample candidates and tests from models, execute, vote, report.
    Run(cmd::run::Args),
    /// Execute a pool through the store, select with every rule, and report.
    Eval(cmd::eval::Args),
    /// Accuracy against the test budget per allocation strategy, on a pool.
    Scale(cmd::scale::Args),
    /// What scaling tests costs and buys on a pool: scale, eval, reward quality, claims.
    Study(cmd::study::StudyArgs),
    /// Serve the sandbox over HTTP: /v1/judge, /v1/submit, /metrics.
    Serve(cmd::serve::Args),
    /// Measure the execution engine and the embedded model against their baselines.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let out = output::Output { json: cli.json };
    let result = match cli.command {
        Command::VerifyBench(a) => cmd::verify_bench::run(a, &out),
        Command::Label(a) => cmd::label::run(a, &out),
        Command::Exec(a) => cmd::exec::run(a, &out),
        Command::Run(a) => cmd::run::run(a, &out),
        Command::Eval(a) => cmd::eval::run(a, &out),
        Command::Select(a) => cmd::select::run(a, &out),
        Command::Scale(a) => cmd::scale::run(a, &out),
        Command::Study(a) => cmd::study::run(a, &out),
        Command::Bench(b) => cmd::bench::run(b, &out),
        Command::Serve(a) => cmd::serve::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if let Some(hint) = hint(&e) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

/// The hint of the first error in the chain that has one.
fn hint(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|cause| {
        cause
            .downcast_ref::<codejury_pipeline::Error>()
            .and_then(Hint::hint)
            .or_else(|| {
                cause
                    .downcast_ref::<codejury_serve::ServeError>()
                    .and_then(Hint::hint)
            })
    })
}
