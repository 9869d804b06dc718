//! `codejury bench`: measurements with their baselines side by side.

use crate::args::EngineArgs;
use crate::output::Output;
use crate::progress::Progress;
use anyhow::Result;
use codejury_pipeline::bench::exec::{exec, ExecBenchConfig};
use std::path::PathBuf;
use std::process::ExitCode;

/// Benchmarks.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Pairs per second of the engine's modes against a process per pair
    /// and against no isolation at all.
    Exec(ExecArgs),
    /// Tokens per second of the embedded model against llama.cpp's own on
    /// the same GGUF file and prompt.
    #[cfg(feature = "embedded")]
    Generate(GenerateArgs),
}

/// Flags of `bench exec`.
#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// HumanEval+ file [default: $CODEJURY_DATA_DIR, the cache, or fetched].
    #[arg(long)]
    data: Option<PathBuf>,
    /// The 5-model samples [default: $CODEJURY_DATA_DIR/samples/humaneval-5models-solutions.jsonl].
    #[arg(long)]
    samples: Option<PathBuf>,
    /// Pairs run for baseline (a), a fixed prefix of the workload (a process
    /// per pair is too slow to run them all).
    #[arg(long, default_value_t = 600)]
    baseline_pairs: usize,
    /// Wall-clock limit per pair, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Flags of `bench generate`.
#[cfg(feature = "embedded")]
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The GGUF file [default: the embedded SmolLM2-135M, fetched on first use].
    #[arg(long)]
    model: Option<PathBuf>,
    /// A Python with llama-cpp-python installed, for the baseline
    /// [default: $CODEJURY_LLAMA_PYTHON, else ~/.cache/codejury-llama-venv/bin/python].
    #[arg(long)]
    llama_python: Option<PathBuf>,
    /// CPU threads, for both engines.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Tokens to generate per repeat.
    #[arg(long, default_value_t = 128)]
    tokens: u32,
    /// Repeats per engine; the fastest counts.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
}

/// Runs a benchmark.
pub fn run(cmd: BenchCommand, out: &Output) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Exec(a) => bench_exec(a, out),
        #[cfg(feature = "embedded")]
        BenchCommand::Generate(a) => bench_generate(a, out),
    }
}

fn bench_exec(a: ExecArgs, out: &Output) -> Result<ExitCode> {
    let config = ExecBenchConfig {
        data: a.data,
        samples: a.samples,
        baseline_pairs: a.baseline_pairs,
        timeout_ms: a.timeout_ms,
        engine: a.engine.settings(),
    };
    let b = exec(&config, &Progress::new(false))?;
    let x = &b.approaches;
    let ra = x.process_per_pair.pairs_per_second;
    out.summary(&b, || {
        println!(
            "workload: {} programs x HumanEval+ base inputs = {} pairs; {} workers; {}",
            b.programs,
            b.pairs,
            b.workers,
            b.python.display()
        );
        println!(
            "{:<34} {:>7} {:>9} {:>10} {:>10}",
            "approach", "pairs", "seconds", "pairs/s", "vs (a)"
        );
        for (name, a) in [
            ("(a) fresh python3 per pair", &x.process_per_pair),
            ("(b) codejury faithful (fork/pair)", &x.faithful),
            ("(c) codejury fast (fork/solution)", &x.fast),
            ("(d) floor: plain exec, no isolation", &x.floor),
        ] {
            println!(
                "{name:<34} {:>7} {:>9.2} {:>10.0} {:>9.1}x",
                a.pairs,
                a.seconds,
                a.pairs_per_second,
                a.pairs_per_second / ra.max(1e-9)
            );
        }
        println!(
            "(b)/(a) = {:.1}x   (d)/(c) = {:.2}x",
            b.faithful_over_process_per_pair, b.floor_over_fast
        );
        println!(
            "verdict agreement with (b): fast {}/{}, (a) {}/{}, floor {}/{}; (b) passes {}",
            x.fast.agreement_with_faithful.unwrap_or(0),
            b.pairs,
            x.process_per_pair.agreement_with_faithful.unwrap_or(0),
            x.process_per_pair.pairs,
            x.floor.agreement_with_faithful.unwrap_or(0),
            b.pairs,
            b.passes_faithful
        );
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "embedded")]
fn bench_generate(a: GenerateArgs, out: &Output) -> Result<ExitCode> {
    use codejury_pipeline::bench::generate::{generate, GenerateBenchConfig};
    let b = generate(&GenerateBenchConfig {
        model: a.model,
        llama_python: a.llama_python,
        threads: a.threads,
        tokens: a.tokens,
        repeats: a.repeats,
    })?;
    out.summary(&b, || {
        println!(
            "model {} · {} thread(s) · greedy · best of {}",
            b.model.display(),
            b.threads,
            b.repeats
        );
        println!(
            "{:<28} {:>7} {:>9} {:>8} {:>9}",
            "engine", "prompt", "generated", "seconds", "tokens/s"
        );
        for (name, t) in [
            ("codejury embedded", &b.embedded),
            ("llama.cpp (llama-cpp-python)", &b.llama_cpp_python),
        ] {
            println!(
                "{name:<28} {:>7} {:>9} {:>8.2} {:>9.1}",
                t.prompt_tokens, t.completion_tokens, t.seconds, t.tokens_per_second
            );
        }
        println!(
            "ratio {:.2}x; greedy texts identical: {} (the first {} characters agree)",
            b.ratio, b.same_text, b.agreeing_prefix_chars
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
