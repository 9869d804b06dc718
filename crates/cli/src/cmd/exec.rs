//! `codejury exec`: the verdict matrix of solutions × tests, from files.

use crate::common::{parse_bench, progress, EngineArgs, LimitArgs, Output, StoreArgs};
use anyhow::{bail, Context, Result};
use codejury_bench::jsonl;
use codejury_bench::{read_samples, Benchmark, Dataset};
use codejury_core::{TestCase, TestFormat, Verdict};
use codejury_sandbox::{Job, Runner};
use codejury_store::CachedRunner;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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
    /// Format of every test (unittest, assert or check) [default: detected per test].
    #[arg(long, value_parser = parse_format)]
    test_format: Option<TestFormat>,
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

fn parse_format(s: &str) -> Result<TestFormat, String> {
    s.parse::<TestFormat>().map_err(|e| e.to_string())
}

struct TestRow {
    task_id: String,
    index: usize,
    case: TestCase,
}

/// Reads tests grouped by task, numbering them within the task.
fn read_tests(path: &std::path::Path, forced: Option<TestFormat>) -> Result<Vec<TestRow>> {
    let mut rows = Vec::new();
    let mut counters: HashMap<String, usize> = HashMap::new();
    jsonl::for_each(path, |r| {
        let task_id = r.id("task_id")?;
        let code = r.str("test")?;
        let format = match (forced, r.opt_str("format")?) {
            (Some(f), _) => f,
            (None, Some(f)) => f
                .parse::<TestFormat>()
                .map_err(|e| r.error(format!("field `format`: {e}")))?,
            (None, None) => TestFormat::detect(&code),
        };
        let c = counters.entry(task_id.clone()).or_default();
        rows.push(TestRow {
            task_id,
            index: *c,
            case: TestCase::new(format, code),
        });
        *c += 1;
        Ok(())
    })?;
    Ok(rows)
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let problems = match (&args.problems, args.bench) {
        (Some(p), _) => Some(Dataset::load_plain(p)?),
        (None, Some(b)) => Some(Dataset::load(b, args.data.as_deref())?),
        (None, None) => None,
    };
    let samples = read_samples(&args.solutions)?;
    let tests = read_tests(&args.tests, args.test_format)?;
    let mut by_task: HashMap<&str, Vec<&TestRow>> = HashMap::new();
    for t in &tests {
        by_task.entry(&t.task_id).or_default().push(t);
    }
    let limits = args.limits.limits();
    let mut jobs = Vec::new();
    let mut meta = Vec::new(); // (task_id, solution_index, test indices)
    let mut sol_counter: HashMap<&str, usize> = HashMap::new();
    for s in &samples {
        let problem = problems
            .as_ref()
            .and_then(|d| d.get(&s.task_id))
            .map(|p| &p.problem);
        let program = match (problem, &s.solution, &s.completion) {
            (_, Some(sol), _) => sol.clone(),
            (Some(p), None, Some(c)) => format!("{}{}", p.prompt, c),
            (None, None, Some(_)) => bail!(
                "{}:{}: a `completion` needs the problem's prompt: pass --problems or --bench",
                args.solutions.display(),
                s.line
            ),
            (_, None, None) => unreachable!("read_samples requires solution or completion"),
        };
        let idx = sol_counter.entry(&s.task_id).or_default();
        let task_tests = by_task.get(s.task_id.as_str()).cloned().unwrap_or_default();
        meta.push((
            s.task_id.clone(),
            *idx,
            task_tests.iter().map(|t| t.index).collect::<Vec<_>>(),
        ));
        *idx += 1;
        jobs.push(Job {
            candidate: program,
            entry_point: problem.map(|p| p.entry_point.clone()),
            prelude: None,
            tests: task_tests.iter().map(|t| t.case.clone()).collect(),
            limits,
        });
    }
    let total: usize = jobs.iter().map(|j| j.tests.len()).sum();
    let engine = args.engine.engine()?;
    let store = args.store.open()?;
    let runner = CachedRunner::new(&engine, &store);
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let bar = progress(total as u64, "pairs");
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    let mut write_error = None;
    let start = Instant::now();
    runner.run_jobs(jobs, &mut |o| {
        let (task_id, sol, test_ids) = &meta[o.job];
        *counts.entry(o.verdict).or_default() += 1;
        let row = json!({
            "task_id": task_id,
            "solution_index": sol,
            "test_index": test_ids[o.test],
            "verdict": o.verdict,
            "cpu_ms": (o.cpu_ms * 1000.0).round() / 1000.0,
            "wall_ms": (o.wall_ms * 1000.0).round() / 1000.0,
            "message": o.message,
            "cached": o.cached,
        });
        bar.inc(1);
        if let Err(e) = writeln!(w, "{row}") {
            write_error = Some(e);
            return false;
        }
        true
    })?;
    bar.finish_and_clear();
    if let Some(e) = runner.take_error() {
        return Err(e.into());
    }
    if let Some(e) = write_error {
        return Err(e).with_context(|| format!("cannot write {}", args.out.display()));
    }
    w.flush()
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let secs = start.elapsed().as_secs_f64();
    let summary = json!({
        "solutions": samples.len(),
        "tests": tests.len(),
        "pairs": total,
        "executed": runner.executed(),
        "cached": runner.cached(),
        "store": store.path(),
        "verdicts": counts.iter().map(|(v, n)| (v.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "seconds": secs,
        "pairs_per_second": total as f64 / secs.max(1e-9),
        "out": args.out,
    });
    out.summary(&summary, || {
        println!(
            "{total} pairs ({} solutions, {} tests; {} run, {} from the store) in {secs:.2}s: {:.0} pairs/s -> {}",
            samples.len(),
            tests.len(),
            runner.executed(),
            runner.cached(),
            total as f64 / secs.max(1e-9),
            args.out.display()
        );
        for (v, n) in &counts {
            println!("  {v:<14} {n}");
        }
    });
    Ok(ExitCode::SUCCESS)
}
