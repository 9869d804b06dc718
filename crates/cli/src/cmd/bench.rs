//! `codejury bench exec`: the engine against its baselines on one fixed,
//! real workload, all measured in the same run.
//!
//! Workload: HumanEval+ canonical solutions and the 5-model HumanEval
//! samples, each against its task's HumanEval+ base inputs turned into
//! single `assert f(*args) == expected` tests (expected from the canonical
//! solution). Approaches:
//! (a) a fresh `python3` process per pair (how the CodeRM harness's peers
//!     run; the real interpreter binary, not a version-manager shim);
//! (b) the engine, faithful mode (a fork per pair, full isolation);
//! (c) the engine, fast mode (a fork per solution);
//! (d) the floor: plain `exec` of every pair in one Python process per
//!     worker, no isolation at all.

use crate::common::{progress, EngineArgs, Output};
use anyhow::{bail, Context, Result};
use codejury_bench::{read_samples, Benchmark, Dataset, GroundTruth};
use codejury_core::{TestCase, TestFormat, Verdict};
use codejury_sandbox::{Engine, EngineConfig, Job, Limits, Mode};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BENCH_TESTS: &str = include_str!("../py/bench_tests.py");
const BENCH_FLOOR: &str = include_str!("../py/bench_floor.py");

/// Benchmarks.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Pairs per second of the engine's modes against a process per pair
    /// and against no isolation at all.
    Exec(ExecArgs),
    /// Tokens per second of the embedded model against llama.cpp's own on
    /// the same GGUF file and prompt.
    Generate(crate::cmd::bench_generate::GenerateArgs),
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

/// Runs a benchmark.
pub fn run(cmd: BenchCommand, out: &Output) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Exec(a) => exec(a, out),
        BenchCommand::Generate(a) => crate::cmd::bench_generate::generate(a, out),
    }
}

struct Pair {
    job: usize,
    test: usize,
}

fn exec(args: ExecArgs, out: &Output) -> Result<ExitCode> {
    let data = Dataset::load(Benchmark::HumanEvalPlus, args.data.as_deref())?;
    let samples_path = match &args.samples {
        Some(p) => p.clone(),
        None => match std::env::var_os("CODEJURY_DATA_DIR") {
            Some(d) => Path::new(&d).join("samples/humaneval-5models-solutions.jsonl"),
            None => {
                bail!("pass --samples (the 5-model HumanEval samples) or set CODEJURY_DATA_DIR")
            }
        },
    };
    let samples = read_samples(&samples_path)?;
    let workers = args.engine.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let limits = Limits::default().with_time_ms(args.timeout_ms);
    let python = match &args.engine.python {
        Some(p) => codejury_sandbox::python::resolve_named(&p.to_string_lossy())?,
        None => codejury_sandbox::python::resolve()?,
    };
    let engine_for = |mode: Mode| -> Result<Engine> {
        Ok(Engine::new(EngineConfig {
            workers,
            mode,
            python: Some(python.clone()),
            ..EngineConfig::default()
        })?)
    };

    // Build the tests from the canonical solutions, in the sandbox.
    let faithful = engine_for(Mode::Faithful)?;
    let mut prep = Vec::new();
    for bp in &data.problems {
        let GroundTruth::EvalPlus { base_input, .. } = &bp.truth else {
            continue;
        };
        let spec = json!({"entry_point": bp.problem.entry_point, "inputs": base_input}).to_string();
        prep.push(Job {
            candidate: bp.canonical.clone().unwrap_or_default(),
            entry_point: Some(bp.problem.entry_point.clone()),
            prelude: None,
            tests: vec![TestCase {
                format: TestFormat::Assert,
                code: BENCH_TESTS.into(),
                data: Some(spec),
            }],
            limits: Limits::default().with_time_ms(60_000),
        });
    }
    let mut tests: Vec<Vec<String>> = vec![Vec::new(); prep.len()];
    faithful.run(prep, |o| {
        if let (Verdict::Pass, Some(v)) = (o.verdict, o.value) {
            tests[o.job] = serde_json::from_str(&v).unwrap_or_default();
        }
        true
    })?;

    // Programs: canonical solutions, then the samples.
    let mut jobs = Vec::new();
    for (i, bp) in data.problems.iter().enumerate() {
        jobs.push((i, bp.canonical.clone().unwrap_or_default()));
    }
    for s in &samples {
        let Some(task) = data.position(&s.task_id) else {
            continue;
        };
        let program = data.problems[task]
            .problem
            .program(s.solution.as_deref(), s.completion.as_deref())
            .unwrap_or_default();
        jobs.push((task, program));
    }
    let engine_jobs: Vec<Job> = jobs
        .iter()
        .map(|(task, program)| Job {
            candidate: program.clone(),
            entry_point: Some(data.problems[*task].problem.entry_point.clone()),
            prelude: None,
            tests: tests[*task]
                .iter()
                .map(|t| TestCase::new(TestFormat::Assert, t.clone()))
                .collect(),
            limits,
        })
        .collect();
    let pairs: Vec<Pair> = engine_jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| (0..job.tests.len()).map(move |t| Pair { job: j, test: t }))
        .collect();
    let n = pairs.len();
    eprintln!(
        "workload: {} programs, {n} pairs, {workers} workers",
        engine_jobs.len()
    );

    let run_engine = |engine: &Engine, label: &str| -> Result<(f64, Vec<Vec<bool>>)> {
        let bar = progress(n as u64, label);
        let mut passed: Vec<Vec<bool>> = engine_jobs
            .iter()
            .map(|j| vec![false; j.tests.len()])
            .collect();
        let start = Instant::now();
        engine.run(engine_jobs.clone(), |o| {
            passed[o.job][o.test] = o.verdict.passed();
            bar.inc(1);
            true
        })?;
        bar.finish_and_clear();
        Ok((start.elapsed().as_secs_f64(), passed))
    };
    let (secs_b, pass_b) = run_engine(&faithful, "faithful")?;
    drop(faithful);
    let (secs_c, pass_c) = run_engine(&engine_for(Mode::Fast)?, "fast")?;

    // (a) a fresh interpreter per pair, on a fixed prefix of the workload.
    let prefix = &pairs[..args.baseline_pairs.min(n)];

    let (secs_a, pass_a) =
        fresh_process_per_pair(&python, &engine_jobs, prefix, workers, args.timeout_ms)?;

    // (d) the floor.
    let (secs_d, pass_d) = floor(&python, &engine_jobs, &pairs, workers, args.timeout_ms)?;

    let rate = |count: usize, secs: f64| count as f64 / secs.max(1e-9);
    let (ra, rb, rc, rd) = (
        rate(prefix.len(), secs_a),
        rate(n, secs_b),
        rate(n, secs_c),
        rate(n, secs_d),
    );
    let agree = |x: &[Vec<bool>], y: &dyn Fn(usize) -> bool, over: &[Pair]| {
        over.iter()
            .enumerate()
            .filter(|(i, p)| x[p.job][p.test] == y(*i))
            .count()
    };
    let fast_agree = agree(&pass_b, &|i| pass_c[pairs[i].job][pairs[i].test], &pairs);
    let a_agree = agree(&pass_b, &|i| pass_a[i], prefix);
    let d_agree = agree(&pass_b, &|i| pass_d[i], &pairs);
    let passes_b = pairs.iter().filter(|p| pass_b[p.job][p.test]).count();
    let summary = json!({
        "pairs": n,
        "workers": workers,
        "python": python,
        "passes_faithful": passes_b,
        "approaches": {
            "process_per_pair": {"pairs": prefix.len(), "seconds": secs_a, "pairs_per_second": ra, "agreement_with_faithful": a_agree},
            "faithful": {"pairs": n, "seconds": secs_b, "pairs_per_second": rb},
            "fast": {"pairs": n, "seconds": secs_c, "pairs_per_second": rc, "agreement_with_faithful": fast_agree},
            "floor": {"pairs": n, "seconds": secs_d, "pairs_per_second": rd, "agreement_with_faithful": d_agree},
        },
        "faithful_over_process_per_pair": rb / ra,
        "fast_over_process_per_pair": rc / ra,
        "floor_over_fast": rd / rc,
    });
    out.summary(&summary, || {
        println!("workload: {} programs x HumanEval+ base inputs = {n} pairs; {workers} workers; {}", engine_jobs.len(), python.display());
        println!("{:<34} {:>7} {:>9} {:>10} {:>10}", "approach", "pairs", "seconds", "pairs/s", "vs (a)");
        let row = |name: &str, count: usize, secs: f64, r: f64| {
            println!("{name:<34} {count:>7} {secs:>9.2} {r:>10.0} {:>9.1}x", r / ra);
        };
        row("(a) fresh python3 per pair", prefix.len(), secs_a, ra);
        row("(b) codejury faithful (fork/pair)", n, secs_b, rb);
        row("(c) codejury fast (fork/solution)", n, secs_c, rc);
        row("(d) floor: plain exec, no isolation", n, secs_d, rd);
        println!("(b)/(a) = {:.1}x   (d)/(c) = {:.2}x", rb / ra, rd / rc);
        println!(
            "verdict agreement with (b): fast {fast_agree}/{n}, (a) {a_agree}/{}, floor {d_agree}/{n}; (b) passes {passes_b}",
            prefix.len()
        );
    });
    Ok(ExitCode::SUCCESS)
}

/// Runs each pair as `python -c program`, `workers` at a time; a pair passes
/// iff the process exits 0 within the limit.
fn fresh_process_per_pair(
    python: &Path,
    jobs: &[Job],
    pairs: &[Pair],
    workers: usize,
    timeout_ms: u64,
) -> Result<(f64, Vec<bool>)> {
    let next = AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<bool>> = (0..pairs.len())
        .map(|_| std::sync::Mutex::new(false))
        .collect();
    let bar = progress(pairs.len() as u64, "process/pair");
    let start = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..workers {
            handles.push(s.spawn(|| -> Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pairs.len() {
                        return Ok(());
                    }
                    let mut child = Command::new(python)
                        .arg("-c")
                        .arg({
                            let p = &pairs[i];
                            format!(
                                "{}\n{}\n",
                                jobs[p.job].candidate, jobs[p.job].tests[p.test].code
                            )
                        })
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .context("cannot start python")?;
                    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
                    let ok = loop {
                        if let Some(status) = child.try_wait()? {
                            break status.success();
                        }
                        if Instant::now() > deadline {
                            let _ = child.kill();
                            let _ = child.wait();
                            break false;
                        }
                        std::thread::sleep(Duration::from_micros(500));
                    };
                    if let Ok(mut r) = results[i].lock() {
                        *r = ok;
                    }
                    bar.inc(1);
                }
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a baseline thread panicked"))??;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    Ok((
        secs,
        results
            .into_iter()
            .map(|m| m.into_inner().unwrap_or(false))
            .collect(),
    ))
}

/// Runs all pairs with plain `exec`, split over `workers` Python processes.
fn floor(
    python: &Path,
    jobs: &[Job],
    pairs: &[Pair],
    workers: usize,
    timeout_ms: u64,
) -> Result<(f64, Vec<bool>)> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("floor.py");
    std::fs::write(&script, BENCH_FLOOR)?;
    let mut shards = Vec::new();
    for w in 0..workers {
        let shard: Vec<(String, String)> = pairs
            .iter()
            .enumerate()
            .filter(|(i, _)| i % workers == w)
            .map(|(_, p)| {
                (
                    jobs[p.job].candidate.clone(),
                    jobs[p.job].tests[p.test].code.clone(),
                )
            })
            .collect();
        let path = dir.path().join(format!("shard{w}.json"));
        std::fs::write(&path, serde_json::to_vec(&shard)?)?;
        shards.push(path);
    }
    let start = Instant::now();
    let children: Vec<_> = shards
        .iter()
        .map(|p| {
            Command::new(python)
                .arg(&script)
                .arg(p)
                .arg(format!("{}", timeout_ms as f64 / 1000.0))
                .arg(p.with_extension("out"))
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
        })
        .collect::<std::io::Result<_>>()?;
    let mut per_shard = Vec::new();
    for mut c in children {
        c.wait()?;
    }
    let secs = start.elapsed().as_secs_f64();
    for p in &shards {
        let out =
            std::fs::read(p.with_extension("out")).context("the floor script wrote no results")?;
        let v: Vec<bool> = serde_json::from_slice(&out).context("the floor script failed")?;
        per_shard.push(v);
    }
    let mut out = vec![false; pairs.len()];
    let mut cursors = vec![0usize; workers];
    for (i, slot) in out.iter_mut().enumerate() {
        let w = i % workers;
        *slot = per_shard[w].get(cursors[w]).copied().unwrap_or(false);
        cursors[w] += 1;
    }
    Ok((secs, out))
}
