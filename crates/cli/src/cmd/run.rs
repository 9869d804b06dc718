//! `codejury run`: the whole pipeline from a model to a report — sample N
//! candidates and M unit tests per problem, execute every pair, vote, and
//! write the report that `eval` writes, plus what every stage cost.
//!
//! Every stage keeps its results in the run store as they arrive: each
//! model call's samples are committed with its usage, each verdict on its
//! own. A run stopped by Ctrl-C, `kill -9` or a failing server is resumed
//! by running the same command again, and no finished model call or
//! execution is paid for twice.

use crate::backend::{self, Backend, BackendArgs};
use crate::cmd::eval::{execute_pool, PoolRun};
use crate::common::{progress, BenchArgs, EngineArgs, LimitArgs, Output, StoreArgs};
use crate::pool::{check_well_formed, intern, Pool};
use crate::report::{self, Report};
use anyhow::{Context, Result};
use codejury_bench::Dataset;
use codejury_core::allocate::{next_purchases, outlook, problem_seed, Progress, Standing};
use codejury_core::extract::{
    candidate_program, code_blocks, coderm_unittest, codet_asserts, codet_pieces, Discards, Reject,
};
use codejury_core::{Rule, TestCase, TestFormat};
use codejury_llm::prompts::{self, Ask};
use codejury_llm::{Request, Sampling};
use codejury_store::{Key, Store, StoredGeneration, Usage};
use serde_json::json;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// How unit tests are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestStyle {
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
    test_style: TestStyle,
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

fn parse_rule(s: &str) -> Result<Rule, String> {
    s.parse::<Rule>().map_err(|e| e.to_string())
}

/// One generation stage's outcome.
struct Stage {
    /// Per ask, its texts (at most the number wanted).
    texts: Vec<Vec<String>>,
    /// Per ask, the usage of every call stored for it (this run or earlier).
    usage: Vec<Usage>,
    /// Samples made now (not from the store).
    fresh_samples: usize,
    /// Samples read from the store.
    stored_samples: usize,
    /// Requests that failed for good: (ask, message).
    failures: Vec<(usize, String)>,
    /// Samples a replay file did not have.
    missing: usize,
    /// Wall seconds.
    secs: f64,
}

/// Sets the flag on the first Ctrl-C; quits on the second.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if f.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: quitting now; finished work is in the store");
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping after the work in flight (Ctrl-C again to quit now)");
    });
    if let Err(e) = installed {
        tracing::warn!("cannot catch Ctrl-C: {e}");
    }
    flag
}

/// Samples `want[i]` generations for ask `i` through the store: what is stored
/// is reused, the rest is asked for, and each call's samples are committed
/// as the call returns.
#[allow(clippy::too_many_arguments)]
fn generate_stage(
    what: &str,
    backend: &Backend,
    role: &str,
    data: &Dataset,
    asks: &[(usize, Ask)],
    want: &[usize],
    sampling: &Sampling,
    store: &mut Store,
    stop: &AtomicBool,
) -> Result<Stage> {
    let started = Instant::now();
    let identity = backend.generator.identity();
    let mut keys = Vec::with_capacity(asks.len());
    let mut requests = Vec::new();
    let mut stored_samples = 0;
    for (i, (task, ask)) in asks.iter().enumerate() {
        let s = Sampling {
            stop: ask.stop.clone(),
            ..sampling.clone()
        };
        let key = Key::of(&[
            b"generation/v1",
            identity.as_bytes(),
            role.as_bytes(),
            serde_json::to_string(&ask.prompt)?.as_bytes(),
            serde_json::to_string(&s)?.as_bytes(),
        ]);
        let stored = store.generations(&key)?.len();
        stored_samples += stored.min(want[i]);
        if stored < want[i] {
            requests.push(Request {
                id: i,
                task_id: data.problems[*task].problem.task_id.clone(),
                prompt: ask.prompt.clone(),
                n: want[i] - stored,
                start: stored,
                sampling: s,
            });
        }
        keys.push(key);
    }
    let starts: HashMap<usize, usize> = requests.iter().map(|r| (r.id, r.start)).collect();
    let wanted: usize = want.iter().sum();
    let bar = progress(wanted as u64, what);
    bar.inc(stored_samples as u64);
    let mut failures = Vec::new();
    let mut store_error = None;
    let mut fresh_samples = 0;
    if !requests.is_empty() && !stop.load(Ordering::SeqCst) {
        backend.generator.generate(requests, &mut |id, result| {
            match result {
                Ok(resp) => {
                    let samples: Vec<StoredGeneration> = resp
                        .completions
                        .iter()
                        .map(|c| StoredGeneration {
                            text: c.text.clone(),
                            finish_reason: c.finish_reason.clone(),
                        })
                        .collect();
                    let usage = Usage {
                        prompt_tokens: resp.prompt_tokens,
                        completion_tokens: resp.completion_tokens,
                        latency_ms: resp.latency.as_secs_f64() * 1e3,
                        calls: u64::from(resp.calls),
                    };
                    if !samples.is_empty() {
                        if let Err(e) =
                            store.put_generations(&keys[id], starts[&id], &samples, &usage)
                        {
                            store_error = Some(e);
                            return false;
                        }
                    }
                    fresh_samples += samples.len();
                    bar.inc(samples.len() as u64);
                }
                Err(e) => {
                    let task = &data.problems[asks[id].0].problem.task_id;
                    bar.suspend(|| eprintln!("warning: {what} for {task}: {e}"));
                    failures.push((id, e.to_string()));
                }
            }
            !stop.load(Ordering::SeqCst)
        })?;
    }
    bar.finish_and_clear();
    if let Some(e) = store_error {
        return Err(e.into());
    }
    let mut texts = Vec::with_capacity(asks.len());
    let mut usage = Vec::with_capacity(asks.len());
    for (key, &want) in keys.iter().zip(want) {
        let g = store.generations(key)?;
        texts.push(g.into_iter().take(want).map(|g| g.text).collect::<Vec<_>>());
        usage.push(store.usage(key)?);
    }
    let failed: usize = failures.len();
    let have: usize = texts.iter().map(Vec::len).sum();
    let missing = if stop.load(Ordering::SeqCst) || failed > 0 {
        0
    } else {
        wanted.saturating_sub(have)
    };
    Ok(Stage {
        texts,
        usage,
        fresh_samples,
        stored_samples,
        failures,
        missing,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// Turns generations into the pool `eval` executes: candidates (a
/// generation without usable code stays as an empty program, which fails
/// everything, so N stays N) and tests (discards counted by reason).
fn build_pool(
    data: &Dataset,
    problems: &[usize],
    samples: &[Vec<String>],
    tests: &[Vec<String>],
    style: TestStyle,
    python: &Path,
    candidate_discards: &mut Discards,
) -> Result<Pool> {
    let mut pool = Pool::default();
    // CodeT pieces are checked by Python's own parser, all in one call.
    let codet_text = |text: &str| -> String {
        let blocks = code_blocks(text);
        if blocks.is_empty() {
            text.to_string()
        } else {
            blocks.join("\n")
        }
    };
    let mut valid: HashMap<String, bool> = HashMap::new();
    if style == TestStyle::Codet {
        let mut pieces = Vec::new();
        for (i, &task) in problems.iter().enumerate() {
            let entry = &data.problems[task].problem.entry_point;
            for text in &tests[i] {
                pieces.extend(codet_pieces(&codet_text(text), entry).into_iter().flatten());
            }
        }
        if !pieces.is_empty() {
            let ok = check_well_formed(python, &pieces)?;
            valid = pieces.into_iter().zip(ok).collect();
        }
    }
    for (i, &task) in problems.iter().enumerate() {
        let problem = &data.problems[task].problem;
        let tp = pool.tasks.entry(task).or_default();
        let mut programs = HashMap::new();
        for text in &samples[i] {
            let program = candidate_program(text, &problem.prompt, &problem.entry_point)
                .unwrap_or_else(|why| {
                    candidate_discards.add(why);
                    String::new()
                });
            let k = intern(&mut tp.programs, &mut programs, program);
            tp.rows.push(k);
        }
        let mut seen = HashMap::new();
        for text in &tests[i] {
            let start = tp.cols.len();
            let cases: Vec<TestCase> = match style {
                TestStyle::Coderm => match coderm_unittest(text, &problem.entry_point) {
                    Ok(code) => vec![TestCase::new(TestFormat::Unittest, code)],
                    Err(why) => {
                        pool.discards.add(why);
                        tp.generations.push(0);
                        continue;
                    }
                },
                TestStyle::Codet => {
                    let ok = |p: &str| valid.get(p).copied().unwrap_or(false);
                    codet_asserts(
                        &codet_text(text),
                        &problem.entry_point,
                        &ok,
                        &mut pool.discards,
                    )
                    .into_iter()
                    .map(|a| TestCase::new(TestFormat::Assert, a))
                    .collect()
                }
            };
            for case in cases {
                let before = tp.tests.len();
                let k = intern(&mut tp.tests, &mut seen, case);
                if tp.tests.len() == before {
                    pool.duplicate_tests += 1;
                    if style == TestStyle::Coderm {
                        // CodeRM drops exact duplicates.
                        pool.discards.add(Reject::Duplicate);
                        continue;
                    }
                }
                tp.cols.push(k);
            }
            tp.generations.push(tp.cols.len() - start);
        }
    }
    Ok(pool)
}

/// What buying tests online needs besides the store.
struct OnlineTests<'a> {
    args: &'a Args,
    data: &'a Dataset,
    problems: &'a [usize],
    samples: &'a Stage,
    tester: &'a Backend,
    asks: &'a [(usize, Ask)],
    sampling: &'a Sampling,
    engine: &'a codejury_sandbox::Engine,
}

impl OnlineTests<'_> {
    /// Buys `budget` test generations per problem on average (at most -m
    /// each) in rounds of --round-size, each round for the problems at the
    /// top of the online ranking ([`next_purchases`]) after executing what
    /// the rounds before bought. A round reads, generates and executes only
    /// the problems it buys for; the others' standings cannot have changed.
    /// Every generation and verdict goes through the store, and the ranking
    /// depends only on them and the seed, so a resumed run makes the same
    /// purchases and pays for none twice. Returns the tests as one stage,
    /// and the number of rounds.
    fn buy(&self, budget: usize, store: &mut Store, stop: &AtomicBool) -> Result<(Stage, usize)> {
        let args = self.args;
        anyhow::ensure!(budget > 0, "--test-budget must be at least 1");
        anyhow::ensure!(args.round_size > 0, "--round-size must be at least 1");
        let started = Instant::now();
        let p = self.problems.len();
        let total = budget.min(args.m) * p;
        // Nothing is known yet: every vote is open. A problem whose
        // solution requests failed has no candidates, so no vote to settle.
        let mut standings: Vec<Standing> = self
            .samples
            .texts
            .iter()
            .map(|t| Standing {
                gain: 1.0,
                tests: 0,
                bought: 0,
                cap: if t.is_empty() { 0 } else { args.m },
            })
            .collect();
        let mut tests = Stage {
            texts: vec![Vec::new(); p],
            usage: vec![Usage::default(); p],
            fresh_samples: 0,
            stored_samples: 0,
            failures: Vec::new(),
            missing: 0,
            secs: 0.0,
        };
        let (mut spent, mut rounds) = (0, 0);
        while spent < total {
            let picks = next_purchases(&standings, args.round_size.min(total - spent));
            if picks.is_empty() {
                break;
            }
            for &i in &picks {
                standings[i].bought += 1;
            }
            spent += picks.len();
            rounds += 1;
            let asks: Vec<(usize, Ask)> = picks.iter().map(|&i| self.asks[i].clone()).collect();
            let want: Vec<usize> = picks.iter().map(|&i| standings[i].bought).collect();
            let s = generate_stage(
                &format!("tests (round {rounds})"),
                self.tester,
                "tester",
                self.data,
                &asks,
                &want,
                self.sampling,
                store,
                stop,
            )?;
            for ((&i, texts), usage) in picks.iter().zip(s.texts).zip(s.usage) {
                tests.texts[i] = texts;
                tests.usage[i] = usage;
            }
            tests.fresh_samples += s.fresh_samples;
            tests.missing += s.missing;
            let done = stop.load(Ordering::SeqCst) || !s.failures.is_empty() || s.missing > 0;
            tests
                .failures
                .extend(s.failures.into_iter().map(|(k, e)| (picks[k], e)));
            if done {
                break;
            }
            if spent < total {
                self.score(&picks, &tests.texts, store, &mut standings)?;
            }
        }
        let have: usize = tests.texts.iter().map(Vec::len).sum();
        tests.stored_samples = have.saturating_sub(tests.fresh_samples);
        tests.secs = started.elapsed().as_secs_f64();
        Ok((tests, rounds))
    }

    /// The [`outlook`] gain and tests of the `picks` problems, from their
    /// candidates and the tests in `texts` (indexed like `problems`).
    fn score(
        &self,
        picks: &[usize],
        texts: &[Vec<String>],
        store: &Store,
        standings: &mut [Standing],
    ) -> Result<()> {
        let args = self.args;
        let problems: Vec<usize> = picks.iter().map(|&i| self.problems[i]).collect();
        let samples: Vec<Vec<String>> = picks
            .iter()
            .map(|&i| self.samples.texts[i].clone())
            .collect();
        let tests: Vec<Vec<String>> = picks.iter().map(|&i| texts[i].clone()).collect();
        let pool = build_pool(
            self.data,
            &problems,
            &samples,
            &tests,
            args.test_style,
            self.engine.python(),
            &mut Discards::default(),
        )?;
        let run = execute_pool(self.data, pool, self.engine, store, args.limits.limits())?;
        let at = run.index_by_id();
        for (&i, &task) in picks.iter().zip(&problems) {
            let id = self.data.problems[task].problem.task_id.as_str();
            // Every picked problem has candidates (see `buy`), but a
            // missing one must not be asked for more.
            let Some(&k) = at.get(id) else {
                standings[i].cap = standings[i].bought;
                continue;
            };
            let t = &run.tasks[k];
            let progress = Progress {
                bought: t.generations.len(),
                useful: t.generations.iter().filter(|&&g| g > 0).count(),
                cap: args.m,
            };
            let seed = problem_seed(args.seed, i, progress.bought);
            standings[i].gain = outlook(&t.matrix, args.rule, progress, seed).gain;
            standings[i].tests = t.matrix.cols();
        }
        Ok(())
    }
}

fn resume_hint(store: &Store) -> String {
    format!(
        "finished work is kept in {}; run the same command again to resume",
        store.path().display()
    )
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let started = Instant::now();
    let stop = interrupt_flag();
    let data = args.bench.load()?;
    let problems: Vec<usize> = (0..data.problems.len())
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    anyhow::ensure!(!problems.is_empty(), "no problems selected (--limit 0?)");
    anyhow::ensure!(args.n > 0 && args.m > 0, "-n and -m must be at least 1");
    let mut store = args.store.open()?;
    let engine = args.engine.engine()?;
    let (policy, tester) = backend::build_pair(&args.backends)?;
    let sampling = Sampling {
        temperature: args.temperature,
        top_p: args.top_p,
        max_tokens: args.max_tokens,
        stop: Vec::new(),
        seed: Some(args.seed),
    };

    let asks: Vec<(usize, Ask)> = problems
        .iter()
        .map(|&t| {
            (
                t,
                prompts::solution(&data.problems[t].problem, policy.style),
            )
        })
        .collect();
    let samples = generate_stage(
        "solutions",
        &policy,
        "policy",
        &data,
        &asks,
        &vec![args.n; asks.len()],
        &sampling,
        &mut store,
        &stop,
    )?;
    if stop.load(Ordering::SeqCst) {
        eprintln!("stopped during sampling; {}", resume_hint(&store));
        return Ok(ExitCode::from(130));
    }
    let test_asks: Vec<(usize, Ask)> = problems
        .iter()
        .map(|&t| {
            let p = &data.problems[t].problem;
            let ask = match args.test_style {
                TestStyle::Coderm => prompts::unit_tests(p),
                TestStyle::Codet => prompts::codet_tests(p, tester.style),
            };
            (t, ask)
        })
        .collect();
    let test_sampling = Sampling {
        max_tokens: args.test_max_tokens,
        ..sampling.clone()
    };
    let (tests, rounds) = match args.test_budget {
        None => {
            let stage = generate_stage(
                "tests",
                &tester,
                "tester",
                &data,
                &test_asks,
                &vec![args.m; test_asks.len()],
                &test_sampling,
                &mut store,
                &stop,
            )?;
            (stage, None)
        }
        Some(budget) => {
            let online = OnlineTests {
                args: &args,
                data: &data,
                problems: &problems,
                samples: &samples,
                tester: &tester,
                asks: &test_asks,
                sampling: &test_sampling,
                engine: &engine,
            };
            let (stage, rounds) = online.buy(budget, &mut store, &stop)?;
            (stage, Some(rounds))
        }
    };
    if stop.load(Ordering::SeqCst) {
        eprintln!("stopped during test generation; {}", resume_hint(&store));
        return Ok(ExitCode::from(130));
    }

    let mut candidate_discards = Discards::default();
    let pool = build_pool(
        &data,
        &problems,
        &samples.texts,
        &tests.texts,
        args.test_style,
        engine.python(),
        &mut candidate_discards,
    )?;
    let run = execute_pool(&data, pool, &engine, &store, args.limits.limits())?;
    let rep = Report::build(&run.tasks, &run.ids, &run.pool, args.repeats, args.seed);
    report::write(&args.out, &rep, &run.tasks, &run.ids)?;

    let costs = Costs {
        policy: &policy,
        tester: &tester,
        samples: &samples,
        tests: &tests,
    };
    let per_problem = costs.per_problem(&data, &problems, &run, args.rule);
    write_problems(&args.out.join("problems.jsonl"), &per_problem)?;
    let mut summary = rep.summary_json();
    summary["stages"] = costs.stages_json(&run);
    summary["discarded_solutions"] = serde_json::to_value(&candidate_discards)?;
    summary["rule"] = json!(args.rule.as_str());
    summary["test_allocation"] = match (args.test_budget, rounds) {
        (Some(budget), Some(rounds)) => json!({
            "strategy": "online",
            "budget_per_problem": budget,
            "cap_per_problem": args.m,
            "round_size": args.round_size,
            "rounds": rounds,
            "generations": tests.texts.iter().map(Vec::len).sum::<usize>(),
        }),
        _ => json!({
            "strategy": "fixed",
            "cap_per_problem": args.m,
            "generations": tests.texts.iter().map(Vec::len).sum::<usize>(),
        }),
    };
    summary["seconds"] = json!({
        "solutions": samples.secs,
        "tests": tests.secs,
        "labels": run.label_secs,
        "exec": run.exec_secs,
        "total": started.elapsed().as_secs_f64(),
    });
    summary["out"] = json!(args.out);
    let path = args.out.join("run.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let failed = samples.failures.len() + tests.failures.len();
    out.summary(&summary, || {
        print!("{}", rep.table());
        for (name, stage, b) in [("solutions", &samples, &policy), ("tests", &tests, &tester)] {
            let u = total_usage(&stage.usage);
            println!(
                "{name:>9}: {} ({}): {} new, {} from the store; {} prompt + {} generated tokens; {:.1}s ({:.1} tokens/s)",
                b.name,
                b.generator.identity(),
                stage.fresh_samples,
                stage.stored_samples,
                u.prompt_tokens,
                u.completion_tokens,
                stage.secs,
                if stage.secs > 0.0 && stage.fresh_samples > 0 {
                    u.completion_tokens as f64 / (u.latency_ms / 1e3).max(1e-9)
                } else {
                    0.0
                },
            );
        }
        println!(
            "     exec: {} pairs, {} executions run, {} from the store; labels {:.1}s, exec {:.1}s; total {:.1}s; report in {}",
            run.pairs,
            run.executed,
            run.cached,
            run.label_secs,
            run.exec_secs,
            started.elapsed().as_secs_f64(),
            args.out.display()
        );
    });
    for (name, stage) in [("solutions", &samples), ("tests", &tests)] {
        if stage.missing > 0 {
            eprintln!(
                "warning: the replay file lacks {} of the {name} asked for",
                stage.missing
            );
        }
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} model requests failed after their retries (see the warnings above); the report covers what was generated; {}",
            resume_hint(&store)
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn total_usage(u: &[Usage]) -> Usage {
    let mut t = Usage::default();
    for x in u {
        t.add(x);
    }
    t
}

/// What the stages cost, for run.json and problems.jsonl.
struct Costs<'a> {
    policy: &'a Backend,
    tester: &'a Backend,
    samples: &'a Stage,
    tests: &'a Stage,
}

/// FLOPs of a forward pass over `tokens` tokens: 2 × parameters × tokens.
fn flops(params: Option<u64>, u: &Usage) -> Option<f64> {
    params.map(|p| 2.0 * p as f64 * (u.prompt_tokens + u.completion_tokens) as f64)
}

impl Costs<'_> {
    fn stages_json(&self, run: &PoolRun) -> serde_json::Value {
        let stage = |b: &Backend, s: &Stage| {
            let u = total_usage(&s.usage);
            json!({
                "backend": b.name,
                "identity": b.generator.identity(),
                "parameters": b.generator.parameters(),
                "samples_new": s.fresh_samples,
                "samples_stored": s.stored_samples,
                "failed_requests": s.failures.len(),
                "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens,
                "calls": u.calls,
                "model_seconds": u.latency_ms / 1e3,
                "flops": flops(b.generator.parameters(), &u),
                "wall_seconds": s.secs,
            })
        };
        json!({
            "solutions": stage(self.policy, self.samples),
            "tests": stage(self.tester, self.tests),
            "exec": {
                "pairs": run.pairs,
                "executed": run.executed,
                "from_store": run.cached,
                "label_seconds": run.label_secs,
                "exec_seconds": run.exec_secs,
            },
        })
    }

    fn per_problem(
        &self,
        data: &Dataset,
        problems: &[usize],
        run: &PoolRun,
        rule: Rule,
    ) -> Vec<serde_json::Value> {
        let at = run.index_by_id();
        problems
            .iter()
            .enumerate()
            .map(|(i, &task)| {
                let id = &data.problems[task].problem.task_id;
                let su = self.samples.usage[i];
                let tu = self.tests.usage[i];
                let mut row = json!({
                    "task_id": id,
                    "solutions": self.samples.texts[i].len(),
                    "test_generations": self.tests.texts[i].len(),
                    "policy_tokens": {"prompt": su.prompt_tokens, "completion": su.completion_tokens},
                    "tester_tokens": {"prompt": tu.prompt_tokens, "completion": tu.completion_tokens},
                    "policy_flops": flops(self.policy.generator.parameters(), &su),
                    "tester_flops": flops(self.tester.generator.parameters(), &tu),
                });
                if let Some(&k) = at.get(id.as_str()) {
                    let t = &run.tasks[k];
                    let chosen = rule.select(&t.matrix);
                    row["tests_kept"] = json!(t.matrix.cols());
                    row["executions"] = json!(t.matrix.rows() * t.matrix.cols());
                    row["pass_rate"] = json!(
                        t.labels.iter().filter(|&&l| l).count() as f64 / t.labels.len().max(1) as f64
                    );
                    row["selected"] = json!(chosen.first());
                    row["selected_accuracy"] = json!(rule.score(&t.matrix, &t.labels));
                }
                row
            })
            .collect()
    }
}

fn write_problems(path: &Path, rows: &[serde_json::Value]) -> Result<()> {
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for r in rows {
        writeln!(w, "{r}")?;
    }
    w.flush()?;
    Ok(())
}
