//! `run`: the whole pipeline from models to a report — sample N candidates
//! and M unit tests per problem, execute every pair, vote, and write the
//! report `eval` writes, plus what every stage cost.
//!
//! Every stage keeps its results in the run store as they arrive: each
//! model call's samples are committed with its usage, each verdict on its
//! own. A run that is cancelled, killed or stopped by a failing server is
//! resumed by running it again, and no finished model call or execution is
//! paid for twice. A test budget (`test_budget`) buys test generations in
//! rounds, each for the problems whose votes are most likely to move.

use crate::backend::{self, Backend};
use crate::config::{RunConfig, TestUnit};
use crate::error::{self, create_dir, Error, Result};
use crate::execute::{execute, Executed};
use crate::generate::{self, flops, Generated, Question, StageContext, StageCost};
use crate::pool::record::{self, StageTexts};
use crate::pool::{Duplicates, Of, Pool, PoolBuilder, Recorded, TestGeneration};
use crate::report::{self, write_json, write_jsonl, Summary};
use crate::reporter::{Reporter, Stage};
use crate::session::Sandbox;
use codejury_bench::Dataset;
use codejury_core::allocate::{next_purchases, outlook, problem_seed, Progress, Standing};
use codejury_core::discard::Discards;
use codejury_core::Rule;
use codejury_llm::Sampling;
use codejury_store::{CachedRunner, Store, Usage};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

/// How test generations were allocated.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "strategy", rename_all = "lowercase")]
pub enum TestAllocation {
    /// Every problem got `cap_per_problem`.
    Fixed {
        /// Generations per problem.
        cap_per_problem: usize,
        /// Generations in all.
        generations: usize,
    },
    /// Bought online in rounds.
    Online {
        /// The average asked for.
        budget_per_problem: usize,
        /// The most one problem could get.
        cap_per_problem: usize,
        /// Problems served per round.
        round_size: usize,
        /// Rounds run.
        rounds: usize,
        /// Generations in all.
        generations: usize,
    },
}

/// What execution cost.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ExecCost {
    /// Pairs in the matrices.
    pub pairs: usize,
    /// Executions run now.
    pub executed: u64,
    /// Executions answered from the store.
    pub from_store: u64,
    /// Seconds labelling.
    pub label_seconds: f64,
    /// Seconds executing the matrix.
    pub exec_seconds: f64,
}

/// What every stage cost.
#[derive(Debug, Clone, Serialize)]
pub struct Stages {
    /// The policy's stage.
    pub solutions: StageCost,
    /// The tester's stage (every round together).
    pub tests: StageCost,
    /// Execution.
    pub exec: ExecCost,
}

/// Wall seconds per stage.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RunSeconds {
    /// Sampling candidates.
    pub solutions: f64,
    /// Sampling tests.
    pub tests: f64,
    /// Labelling.
    pub labels: f64,
    /// Executing.
    pub exec: f64,
    /// Everything.
    pub total: f64,
}

/// `run.json` and the `--json` summary of `run`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The evaluation report.
    #[serde(flatten)]
    pub report: Summary,
    /// What each stage cost.
    pub stages: Stages,
    /// Policy generations that held no candidate, by reason.
    pub discarded_solutions: Discards,
    /// The rule named in `problems.jsonl`.
    pub rule: Rule,
    /// How test generations were allocated.
    pub test_allocation: TestAllocation,
    /// Wall seconds per stage.
    pub seconds: RunSeconds,
    /// The output directory.
    pub out: PathBuf,
    /// The benchmark (`eval`, `scale` and `study` given this directory
    /// read it from here).
    pub bench: String,
    /// The local benchmark file it was read from, if one was given.
    pub data: Option<PathBuf>,
}

/// Tokens of one model's stage for one problem.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Tokens {
    /// Prompt tokens.
    pub prompt: u64,
    /// Generated tokens.
    pub completion: u64,
}

impl From<&Usage> for Tokens {
    fn from(u: &Usage) -> Self {
        Tokens {
            prompt: u.prompt_tokens,
            completion: u.completion_tokens,
        }
    }
}

/// One line of `problems.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemRow {
    /// The task.
    pub task_id: String,
    /// Candidates sampled.
    pub solutions: usize,
    /// Test generations sampled.
    pub test_generations: usize,
    /// The policy's tokens.
    pub policy_tokens: Tokens,
    /// The tester's tokens.
    pub tester_tokens: Tokens,
    /// The policy's FLOPs, when its size is known.
    pub policy_flops: Option<f64>,
    /// The tester's FLOPs.
    pub tester_flops: Option<f64>,
    /// What the vote made of it (absent for a problem without candidates).
    #[serde(flatten)]
    pub outcome: Option<ProblemOutcome>,
}

/// A problem's vote.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemOutcome {
    /// Tests kept (columns).
    pub tests_kept: usize,
    /// Pairs executed.
    pub executions: usize,
    /// The policy's pass rate on it.
    pub pass_rate: f64,
    /// The rule's pick (a row).
    pub selected: Option<usize>,
    /// The expected correctness of the pick.
    pub selected_accuracy: f64,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The summary (`run.json`).
    pub summary: RunSummary,
    /// One row per problem (`problems.jsonl`).
    pub problems: Vec<ProblemRow>,
    /// Model requests that failed after their retries.
    pub failed_requests: usize,
    /// Samples a replay file lacked: (stage, count).
    pub missing: Vec<(&'static str, usize)>,
    /// The backends' names and identities, for printing.
    pub backends: [(String, String); 2],
}

/// Everything the stages share.
struct Run<'a> {
    config: &'a RunConfig,
    sandbox: &'a Sandbox,
    runner: CachedRunner<'a>,
    data: &'a Dataset,
    problems: Vec<usize>,
    cx: StageContext<'a>,
}

impl Run<'_> {
    fn questions(
        &self,
        ask: impl Fn(&codejury_core::Problem) -> codejury_core::prompt::Ask,
    ) -> Vec<Question> {
        self.problems
            .iter()
            .map(|&t| {
                let p = &self.data.problems[t].problem;
                Question {
                    task_id: p.task_id.clone(),
                    ask: ask(p),
                }
            })
            .collect()
    }

    /// The pool of the generations of the problems at `at` (indices into
    /// `self.problems`). Test texts are models' answers, whose code sits in
    /// fences when there are any (never raw continuations).
    /// With `usage` (each stage's per-problem usage, aligned with `at`),
    /// every generation records its share, as the run's pool files do.
    fn pool(
        &self,
        at: &[usize],
        samples: &[Vec<String>],
        tests: &[Vec<String>],
        usage: Option<(&[Usage], &[Usage])>,
    ) -> Result<Pool> {
        let language = self.sandbox.language();
        let mut b = PoolBuilder::new(language, TestUnit::Assert, Duplicates::Drop);
        for (k, &i) in at.iter().enumerate() {
            let task = self.problems[i];
            let problem = &self.data.problems[task].problem;
            for text in &samples[k] {
                b.candidate_text(task, problem, text);
                if let Some((policy, _)) = usage {
                    b.record_usage(
                        task,
                        Of::Candidate,
                        Recorded::share(&policy[k], samples[k].len()),
                    );
                }
            }
            for text in &tests[k] {
                b.tests(
                    task,
                    problem,
                    TestGeneration::Text {
                        text: text.clone(),
                        style: self.config.test_style,
                        raw: false,
                    },
                );
                if let Some((_, tester)) = usage {
                    b.record_usage(task, Of::Tests, Recorded::share(&tester[k], tests[k].len()));
                }
            }
        }
        b.finish()
    }

    fn execute(&self, pool: Pool) -> Result<Executed> {
        execute(
            &self.runner,
            self.data,
            pool,
            self.config.limits.limits(),
            self.cx.reporter,
            self.cx.cancel,
        )
    }

    /// Buys `budget` test generations per problem on average (at most `m`
    /// each) in rounds of `round_size`, each round for the problems at the
    /// top of the online ranking ([`next_purchases`]) after executing what
    /// the rounds before bought. A round reads, generates and executes only
    /// the problems it buys for; the others' standings cannot have changed.
    /// Every generation and verdict goes through the store, and the ranking
    /// depends only on them and the seed, so a resumed run makes the same
    /// purchases and pays for none twice.
    fn buy(
        &self,
        budget: usize,
        tester: &Backend,
        questions: &[Question],
        sampling: &Sampling,
        samples: &Generated,
    ) -> Result<(Generated, usize)> {
        let c = self.config;
        let started = Instant::now();
        let p = self.problems.len();
        let total = budget.min(c.m) * p;
        // Nothing is known yet: every vote is open. A problem whose
        // solution requests failed has no candidates, so no vote to settle.
        let mut standings: Vec<Standing> = samples
            .texts
            .iter()
            .map(|t| Standing {
                gain: 1.0,
                tests: 0,
                bought: 0,
                cap: if t.is_empty() { 0 } else { c.m },
            })
            .collect();
        let mut tests = Generated {
            texts: vec![Vec::new(); p],
            usage: vec![Usage::default(); p],
            ..Generated::default()
        };
        let (mut spent, mut rounds) = (0, 0);
        while spent < total {
            let picks = next_purchases(&standings, c.round_size.min(total - spent));
            if picks.is_empty() {
                break;
            }
            for &i in &picks {
                standings[i].bought += 1;
            }
            spent += picks.len();
            rounds += 1;
            let qs: Vec<Question> = picks.iter().map(|&i| questions[i].clone()).collect();
            let want: Vec<usize> = picks.iter().map(|&i| standings[i].bought).collect();
            let s = generate::generate(
                &self.cx,
                &Stage::Tests(Some(rounds)),
                tester,
                "tester",
                &qs,
                &want,
                sampling,
            )?;
            for ((&i, texts), usage) in picks.iter().zip(s.texts).zip(s.usage) {
                tests.texts[i] = texts;
                tests.usage[i] = usage;
            }
            tests.fresh_samples += s.fresh_samples;
            tests.missing += s.missing;
            let done = self.cx.cancel.is_cancelled() || !s.failures.is_empty() || s.missing > 0;
            tests
                .failures
                .extend(s.failures.into_iter().map(|(k, e)| (picks[k], e)));
            if done {
                break;
            }
            if spent < total {
                self.score(&picks, samples, &tests.texts, &mut standings)?;
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
        samples: &Generated,
        texts: &[Vec<String>],
        standings: &mut [Standing],
    ) -> Result<()> {
        let c = self.config;
        let s: Vec<Vec<String>> = picks.iter().map(|&i| samples.texts[i].clone()).collect();
        let t: Vec<Vec<String>> = picks.iter().map(|&i| texts[i].clone()).collect();
        let pool = self.pool(picks, &s, &t, None)?;
        let run = self.execute(pool)?;
        let at = run.index_by_id();
        for &i in picks {
            let id = self.data.problems[self.problems[i]]
                .problem
                .task_id
                .as_str();
            // Every picked problem has candidates (see `buy`), but a
            // missing one must not be asked for more.
            let Some(&k) = at.get(id) else {
                standings[i].cap = standings[i].bought;
                continue;
            };
            let task = &run.tasks[k];
            let progress = Progress {
                bought: task.generations.len(),
                useful: task.generations.iter().filter(|&&g| g > 0).count(),
                cap: c.m,
            };
            let seed = problem_seed(c.sampling.seed, i, progress.bought);
            standings[i].gain = outlook(&task.matrix, c.rule, progress, seed).gain;
            standings[i].tests = task.matrix.cols();
        }
        Ok(())
    }
}

/// Runs the pipeline of `config` on `sandbox` and `store`; model calls run
/// on `handle` (the caller's runtime). Cancelling `cancel` stops after the
/// work in flight with [`Error::Cancelled`]; everything finished is in the
/// store. A model request that fails after its retries does not stop the
/// run: the report covers what was generated and
/// [`RunOutcome::failed_requests`] counts them.
pub fn run(
    sandbox: &Sandbox,
    store: &Store,
    config: &RunConfig,
    handle: &Handle,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<RunOutcome> {
    config.validate()?;
    let (policy, tester) = backend::build_pair(&config.backends)?;
    run_with(
        sandbox, store, config, &policy, &tester, handle, reporter, cancel,
    )
}

/// [`run`] with backends the caller built (any [`codejury_llm::Generator`]:
/// a server's own client, a model already loaded, a test's fixture);
/// `config.backends` is then not read.
#[allow(clippy::too_many_arguments)]
pub fn run_with(
    sandbox: &Sandbox,
    store: &Store,
    config: &RunConfig,
    policy: &Backend,
    tester: &Backend,
    handle: &Handle,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<RunOutcome> {
    config.validate()?;
    let started = Instant::now();
    let data = config.bench.load()?;
    let problems: Vec<usize> = (0..data.problems.len())
        .take(config.limit.unwrap_or(usize::MAX))
        .collect();
    if problems.is_empty() {
        return Err(error::config("the benchmark has no problems"));
    }
    let r = Run {
        config,
        sandbox,
        runner: CachedRunner::new(sandbox.engine(), store),
        data: &data,
        problems,
        cx: StageContext {
            handle,
            store,
            reporter,
            cancel,
        },
    };
    let language = sandbox.language();
    let s = &config.sampling;
    let sampling = Sampling {
        temperature: s.temperature,
        top_p: s.top_p,
        max_tokens: s.max_tokens,
        stop: Vec::new(),
        seed: Some(s.seed),
    };

    let questions = r.questions(|p| language.solution_prompt(p, policy.style));
    let samples = generate::generate(
        &r.cx,
        &Stage::Solutions,
        policy,
        "policy",
        &questions,
        &vec![config.n; questions.len()],
        &sampling,
    )?;
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let test_questions = r.questions(|p| language.test_prompt(p, config.test_style, tester.style));
    let test_sampling = Sampling {
        max_tokens: s.test_max_tokens,
        ..sampling.clone()
    };
    let (tests, rounds) = match config.test_budget {
        None => {
            let g = generate::generate(
                &r.cx,
                &Stage::Tests(None),
                tester,
                "tester",
                &test_questions,
                &vec![config.m; test_questions.len()],
                &test_sampling,
            )?;
            (g, None)
        }
        Some(budget) => {
            let (g, rounds) = r.buy(budget, tester, &test_questions, &test_sampling, &samples)?;
            (g, Some(rounds))
        }
    };
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }

    let all: Vec<usize> = (0..r.problems.len()).collect();
    let pool = r.pool(
        &all,
        &samples.texts,
        &tests.texts,
        Some((&samples.usage, &tests.usage)),
    )?;
    let candidate_discards = pool.candidate_discards.clone();
    let executed = r.execute(pool)?;
    let report = Summary::build(&executed.tasks, &executed.pool, config.repeats, s.seed).with_cost(
        &executed,
        policy.generator.parameters(),
        tester.generator.parameters(),
    );
    let title = format!("codejury run · {}", config.bench.bench);
    report::write(&config.out, &title, &report, &executed)?;

    let per_problem = problem_rows(&r, policy, tester, &samples, &tests, &executed, config.rule);
    write_jsonl(&config.out.join("problems.jsonl"), &per_problem)?;
    let task_ids: Vec<String> = r
        .problems
        .iter()
        .map(|&t| r.data.problems[t].problem.task_id.clone())
        .collect();
    record::write(
        &config.out,
        &StageTexts {
            task_ids: &task_ids,
            texts: &samples.texts,
            usage: &samples.usage,
        },
        &StageTexts {
            task_ids: &task_ids,
            texts: &tests.texts,
            usage: &tests.usage,
        },
        config.test_style,
    )?;
    let generations = tests.texts.iter().map(Vec::len).sum::<usize>();
    let summary = RunSummary {
        report,
        stages: Stages {
            solutions: StageCost::of(policy, &samples),
            tests: StageCost::of(tester, &tests),
            exec: ExecCost {
                pairs: executed.pairs,
                executed: executed.executed,
                from_store: executed.cached,
                label_seconds: executed.label_secs,
                exec_seconds: executed.exec_secs,
            },
        },
        discarded_solutions: candidate_discards,
        rule: config.rule,
        test_allocation: match (config.test_budget, rounds) {
            (Some(budget), Some(rounds)) => TestAllocation::Online {
                budget_per_problem: budget,
                cap_per_problem: config.m,
                round_size: config.round_size,
                rounds,
                generations,
            },
            _ => TestAllocation::Fixed {
                cap_per_problem: config.m,
                generations,
            },
        },
        seconds: RunSeconds {
            solutions: samples.secs,
            tests: tests.secs,
            labels: executed.label_secs,
            exec: executed.exec_secs,
            total: started.elapsed().as_secs_f64(),
        },
        out: config.out.clone(),
        bench: config.bench.bench.to_string(),
        data: config.bench.data.clone(),
    };
    create_dir(&config.out)?;
    write_json(&config.out.join("run.json"), &summary)?;
    let missing = [("solutions", samples.missing), ("tests", tests.missing)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok(RunOutcome {
        summary,
        problems: per_problem,
        failed_requests: samples.failures.len() + tests.failures.len(),
        missing,
        backends: [
            (policy.name.clone(), policy.generator.identity()),
            (tester.name.clone(), tester.generator.identity()),
        ],
    })
}

fn problem_rows(
    r: &Run<'_>,
    policy: &Backend,
    tester: &Backend,
    samples: &Generated,
    tests: &Generated,
    executed: &Executed,
    rule: Rule,
) -> Vec<ProblemRow> {
    let at = executed.index_by_id();
    r.problems
        .iter()
        .enumerate()
        .map(|(i, &task)| {
            let id = &r.data.problems[task].problem.task_id;
            let su = &samples.usage[i];
            let tu = &tests.usage[i];
            let outcome = at.get(id.as_str()).map(|&k| {
                let t = &executed.tasks[k];
                ProblemOutcome {
                    tests_kept: t.matrix.cols(),
                    executions: t.matrix.rows() * t.matrix.cols(),
                    pass_rate: t.labels.iter().filter(|&&l| l).count() as f64
                        / t.labels.len().max(1) as f64,
                    selected: rule.select(&t.matrix).first().copied(),
                    selected_accuracy: rule.score(&t.matrix, &t.labels),
                }
            });
            ProblemRow {
                task_id: id.clone(),
                solutions: samples.texts[i].len(),
                test_generations: tests.texts[i].len(),
                policy_tokens: su.into(),
                tester_tokens: tu.into(),
                policy_flops: flops(policy.generator.parameters(), su),
                tester_flops: flops(tester.generator.parameters(), tu),
                outcome,
            }
        })
        .collect()
}
