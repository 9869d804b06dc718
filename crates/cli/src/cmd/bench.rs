//! `codejury bench`: measurements with their baselines side by side.

use crate::args::{parse_bench, EngineArgs};
use crate::output::Output;
use crate::progress::Progress;
use anyhow::Result;
use codejury_bench::Benchmark;
use codejury_core::Lang;
use codejury_pipeline::bench::exec::{exec, ExecBenchConfig, Workload};
use codejury_pipeline::bench::exec_lang::{exec_lang, LangApproach, LangBenchConfig};
use codejury_sandbox::RunProfile;
use std::path::PathBuf;
use std::process::ExitCode;

/// Benchmarks.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Pairs per second of the engine's modes against a process per pair,
    /// the CodeRM paper's harness method and no isolation, with the floor.
    Exec(ExecArgs),
    /// Ground-truth labelling against EvalPlus's own evaluator on the same
    /// samples, with label agreement.
    Label(LabelArgs),
    /// Throughput and latency of `codejury serve` at 1, 16 and 128
    /// concurrent clients against the same pairs run in one batch.
    Serve(ServeArgs),
    /// Tokens per second of the embedded model against llama.cpp's own on
    /// the same GGUF file and prompt.
    #[cfg(feature = "embedded")]
    Generate(GenerateArgs),
}

/// Flags of `bench exec`.
#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// Measure a process language instead of Python: the first --tasks
    /// (default 100) MBXP tasks, mxeval's sample and the canonical solution
    /// of each x every single check of the task, built once per candidate
    /// against one build and one process per pair.
    #[arg(long, value_parser = parse_lang)]
    lang: Option<Lang>,
    /// coderm: the 5-model HumanEval samples x GPT-4 asserts as unittest
    /// classes (4,070 pairs, 15 time out); evalplus: HumanEval+ canonical
    /// solutions and the samples x HumanEval+ base inputs as asserts.
    #[arg(long, default_value = "coderm")]
    workload: Workload,
    /// HumanEval file, for the coderm workload [default: $CODEJURY_DATA_DIR, the cache, or fetched].
    #[arg(long)]
    humaneval: Option<PathBuf>,
    /// HumanEval+ file, for the evalplus workload [default: $CODEJURY_DATA_DIR, the cache, or fetched].
    #[arg(long)]
    humaneval_plus: Option<PathBuf>,
    /// The 5-model samples [default: $CODEJURY_DATA_DIR/samples/humaneval-5models-solutions.jsonl].
    #[arg(long)]
    samples: Option<PathBuf>,
    /// The GPT-4 asserts [default: $CODEJURY_DATA_DIR/samples/humaneval-gpt4-tests.jsonl].
    #[arg(long)]
    tests: Option<PathBuf>,
    /// Only the benchmark's first K tasks (a quick run) [default: all].
    #[arg(long)]
    tasks: Option<usize>,
    /// Pairs run for baseline (a), spread evenly over the workload (a
    /// process per pair is too slow to run them all).
    #[arg(long, default_value_t = 600)]
    baseline_pairs: usize,
    /// Processes of the paper's harness method (10 in the paper).
    #[arg(long, default_value_t = 10)]
    paper_processes: usize,
    /// Time limit per pair, in milliseconds: CPU time for the engine and
    /// the floor, wall-clock for (a) and the paper's method.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Also print where the engine's time went, per worker.
    #[arg(long)]
    profile: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Flags of `bench serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Concurrent clients, one level each.
    #[arg(long, value_delimiter = ',', default_value = "1,16,128")]
    clients: Vec<usize>,
    /// Only the first K HumanEval tasks (a quick run) [default: all].
    #[arg(long)]
    tasks: Option<usize>,
    /// HumanEval file [default: $CODEJURY_DATA_DIR, the cache, or fetched].
    #[arg(long)]
    humaneval: Option<PathBuf>,
    /// The 5-model samples [default: $CODEJURY_DATA_DIR/samples/humaneval-5models-solutions.jsonl].
    #[arg(long)]
    samples: Option<PathBuf>,
    /// The GPT-4 asserts [default: $CODEJURY_DATA_DIR/samples/humaneval-gpt4-tests.jsonl].
    #[arg(long)]
    tests: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Flags of `bench label`.
#[derive(clap::Args, Debug)]
pub struct LabelArgs {
    /// humaneval-plus or mbpp-plus (EvalPlus's two datasets).
    #[arg(long, value_parser = parse_bench, default_value = "humaneval-plus")]
    bench: Benchmark,
    /// A local copy of the benchmark file [default: $CODEJURY_DATA_DIR, the cache, or fetched].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Samples to label [default: $CODEJURY_DATA_DIR/samples/humaneval-5models-solutions.jsonl].
    #[arg(long)]
    samples: Option<PathBuf>,
    /// A Python with evalplus==0.3.1 installed, for the baseline
    /// [default: $CODEJURY_EVALPLUS_PYTHON, else ~/.cache/codejury-evalplus-venv/bin/python].
    #[arg(long)]
    evalplus_python: Option<PathBuf>,
    /// Only the benchmark's first K tasks and their samples (a quick run) [default: all].
    #[arg(long)]
    tasks: Option<usize>,
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
        BenchCommand::Label(a) => bench_label(a, out),
        BenchCommand::Serve(a) => bench_serve(a, out),
        #[cfg(feature = "embedded")]
        BenchCommand::Generate(a) => bench_generate(a, out),
    }
}

fn parse_lang(s: &str) -> std::result::Result<Lang, String> {
    match s.parse::<Lang>() {
        Ok(Lang::Python) => Err("python is measured without --lang".into()),
        Ok(l) => Ok(l),
        Err(e) => Err(e.to_string()),
    }
}

fn bench_exec_lang(lang: Lang, a: ExecArgs, out: &Output) -> Result<ExitCode> {
    let config = LangBenchConfig {
        lang,
        tasks: a.tasks.unwrap_or(100),
        data: None,
        samples: a.samples,
        timeout_ms: a.timeout_ms,
        floor_programs: 20,
        engine: a.engine.settings_for(lang),
    };
    let b = exec_lang(&config, &Progress::new(false))?;
    out.summary(&b, || {
        println!(
            "{}: {} MBXP tasks, {} candidates (mxeval's sample and the canonical solution), {} single checks; {} pairs; {} workers on {} cores",
            b.lang, b.tasks, b.candidates, b.checks, b.per_pair.pairs, b.workers, b.cores
        );
        println!(
            "{:<46} {:>6} {:>7} {:>8} {:>8} {:>7}",
            "approach", "pairs", "builds", "seconds", "pairs/s", "vs (a)"
        );
        let mut rows: Vec<(&str, &LangApproach)> = if b.built_once.builds == 0 {
            // Nothing to build: the two ways are the same run.
            vec![("(a) = (b): no build, one process per pair", &b.per_pair)]
        } else {
            vec![
                ("(a) one build and one process per pair", &b.per_pair),
                ("(b) codejury: one build per candidate", &b.built_once),
            ]
        };
        if let Some(w) = &b.warm {
            rows.push(("(c) codejury fast: a warm interpreter forks", &w.approach));
        }
        for &(name, x) in &rows {
            println!(
                "{name:<46} {:>6} {:>7} {:>8.2} {:>8.1} {:>6.2}x",
                x.pairs,
                x.builds,
                x.seconds,
                x.pairs_per_second,
                x.pairs_per_second / b.per_pair.pairs_per_second.max(1e-9)
            );
        }
        println!(
            "verdicts: (a) and (b) agree on {}/{} pairs",
            b.agreement, b.per_pair.pairs
        );
        if b.built_once.builds > 0 {
            println!(
                "one build: {:.0} ms median (the bare compiler on a candidate and its whole test: {:.0} ms, {:.2}x)",
                b.build_ms,
                b.bare_build_ms,
                b.build_ms / b.bare_build_ms.max(1e-9)
            );
        }
        println!(
            "one more test on a built candidate: {:.1} ms median (the bare program's run, the floor: {:.1} ms, {:.2}x)",
            b.marginal_ms,
            b.bare_run_ms,
            b.marginal_ms / b.bare_run_ms.max(1e-9)
        );
        if let Some(w) = &b.warm {
            println!(
                "(c): agrees with (a) on {}/{} pairs; one more test {:.1} ms median ({:.2}x the bare run)",
                w.agreement,
                b.per_pair.pairs,
                w.marginal_ms,
                w.marginal_ms / b.bare_run_ms.max(1e-9)
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn bench_exec(a: ExecArgs, out: &Output) -> Result<ExitCode> {
    if let Some(lang) = a.lang {
        return bench_exec_lang(lang, a, out);
    }
    let config = ExecBenchConfig {
        workload: a.workload,
        humaneval: a.humaneval,
        humaneval_plus: a.humaneval_plus,
        samples: a.samples,
        tests: a.tests,
        tasks: a.tasks,
        baseline_pairs: a.baseline_pairs,
        paper_processes: a.paper_processes,
        timeout_ms: a.timeout_ms,
        engine: a.engine.settings(),
    };
    let b = exec(&config, &Progress::new(false))?;
    let x = &b.approaches;
    let ra = x.process_per_pair.pairs_per_second;
    out.summary(&b, || {
        println!("workload {}: {}", b.workload.as_str(), b.description);
        println!(
            "{} pairs; {} workers on {} cores; {}",
            b.pairs,
            b.workers,
            b.cores,
            b.python.display()
        );
        println!(
            "{:<44} {:>6} {:>8} {:>8} {:>7} {:>8} {:>10}",
            "approach", "pairs", "seconds", "pairs/s", "vs (a)", "/floor", "agree (b)"
        );
        for (name, a) in [
            ("(a) fresh python3 per pair (sample)", &x.process_per_pair),
            ("(b) codejury faithful (a process per pair)", &x.faithful),
            ("(c) codejury fast (a process per candidate)", &x.fast),
            ("(d) plain exec, no isolation", &x.plain_exec),
            ("(e) the paper's method (10 forks, alarm)", &x.paper_method),
        ] {
            let agree = a
                .agreement_with_faithful
                .map(|k| format!("{k}/{}", a.pairs))
                .unwrap_or_else(|| "-".into());
            println!(
                "{name:<44} {:>6} {:>8.2} {:>8.0} {:>6.1}x {:>7.2}x {:>10}",
                a.pairs,
                a.seconds,
                a.pairs_per_second,
                a.pairs_per_second / ra.max(1e-9),
                a.seconds / b.floor_seconds.max(1e-9) * (b.pairs as f64 / a.pairs.max(1) as f64),
                agree
            );
        }
        println!(
            "floor: (d)'s CPU {:.2} s (the work, and each time-out at its limit) over {} cores = {:.2} s",
            b.floor_cpu_seconds, b.cores, b.floor_seconds
        );
        println!(
            "faithful {:.2}x the floor, fast {:.2}x; faithful {:.1}x a process per pair, {:.2}x the paper's method; faithful passes {}, {} time-outs",
            b.faithful_over_floor,
            b.fast_over_floor,
            b.faithful_over_process_per_pair,
            b.faithful_over_paper_method,
            b.passes_faithful,
            b.timeouts_faithful
        );
        if a.profile {
            print_profile("faithful", &b.faithful_profile);
            print_profile("fast", &b.fast_profile);
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Where one engine run's time went, per worker, in seconds.
fn print_profile(label: &str, p: &RunProfile) {
    println!(
        "\nwhere {label} mode's {:.2} s went (seconds per worker):",
        p.wall_ms / 1e3
    );
    println!(
        "{:<8} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7} {:>6}",
        "worker", "spawn", "define", "fork", "test", "harness", "idle", "pieces", "pairs", "split"
    );
    let mut workers = p.workers.clone();
    workers.sort_by_key(|w| std::cmp::Reverse(w.pairs));
    for (i, w) in workers.iter().enumerate() {
        println!(
            "{:<8} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>8.2} {:>7.2} {:>7} {:>7} {:>6}",
            format!("w{i}"),
            w.spawn_ms / 1e3,
            w.define_ms / 1e3,
            w.fork_ms / 1e3,
            w.test_ms / 1e3,
            w.harness_ms / 1e3,
            w.idle_ms / 1e3,
            w.jobs,
            w.pairs,
            w.handed_back
        );
    }
    println!(
        "calling thread: store {:.2} s, progress and the rest of the sink {:.2} s",
        p.store_ms / 1e3,
        (p.sink_ms - p.store_ms).max(0.0) / 1e3
    );
}

fn bench_serve(a: ServeArgs, out: &Output) -> Result<ExitCode> {
    use codejury_serve::bench::{bench, ServeBenchConfig};
    let engine = a.engine.settings();
    let b = bench(&ServeBenchConfig {
        workload: ExecBenchConfig {
            workload: Workload::Coderm,
            humaneval: a.humaneval,
            humaneval_plus: None,
            samples: a.samples,
            tests: a.tests,
            tasks: a.tasks,
            baseline_pairs: 0,
            paper_processes: 0,
            timeout_ms: 1000,
            engine: engine.clone(),
        },
        clients: a.clients,
        engine,
    })?;
    out.summary(&b, || {
        println!(
            "{} tasks, {} pairs (5-model samples x GPT-4 asserts as unittest classes); {} workers",
            b.tasks, b.pairs, b.workers
        );
        println!(
            "batch (one engine run, as codejury exec): {:.2} s, {:.0} pairs/s",
            b.batch_seconds, b.batch_pairs_per_second
        );
        println!(
            "{:<10} {:>7} {:>8} {:>9} {:>8} {:>9} {:>9} {:>9} {:>14}  statuses",
            "route",
            "clients",
            "requests",
            "seconds",
            "pairs/s",
            "p50 ms",
            "p99 ms",
            "/batch",
            "agree"
        );
        for l in &b.levels {
            let statuses: Vec<String> =
                l.statuses.iter().map(|(c, n)| format!("{c}x{n}")).collect();
            println!(
                "{:<10} {:>7} {:>8} {:>9.2} {:>8.0} {:>9.1} {:>9.1} {:>8.2}x {:>14}  {}",
                l.route,
                l.clients,
                l.requests,
                l.seconds,
                l.pairs_per_second,
                l.p50_ms,
                l.p99_ms,
                l.over_batch,
                format!("{}/{}", l.agreement, b.pairs),
                statuses.join(" ")
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn bench_label(a: LabelArgs, out: &Output) -> Result<ExitCode> {
    use codejury_pipeline::bench::label::{label, LabelBenchConfig};
    let b = label(
        &LabelBenchConfig {
            bench: a.bench,
            data: a.data,
            samples: a.samples,
            evalplus_python: a.evalplus_python,
            tasks: a.tasks,
            engine: a.engine.settings(),
        },
        &Progress::new(false),
    )?;
    out.summary(&b, || {
        println!(
            "{} samples of {} · {} workers each",
            b.samples, b.bench, b.workers
        );
        println!("{:<40} {:>8} {:>8}", "labeller", "seconds", "correct");
        println!(
            "{:<40} {:>8.1} {:>8}",
            "codejury label (fresh store)", b.codejury_seconds, b.codejury_passed
        );
        let expected = b
            .evalplus_expected_seconds
            .map(|s| format!(", {s:.1} s of it expected outputs"))
            .unwrap_or_default();
        println!(
            "{:<40} {:>8.1} {:>8}{expected}",
            "EvalPlus 0.3.1 evalplus.evaluate", b.evalplus_seconds, b.evalplus_passed
        );
        println!(
            "ratio {:.2}x; labels agree on {}/{}",
            b.ratio, b.agreement, b.samples
        );
        for d in &b.disagreements {
            println!("  differs: {d}");
        }
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
