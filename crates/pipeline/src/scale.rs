//! `scale`: how accuracy grows with the budget of test generations under
//! each allocation strategy, on a pool of pre-generated candidates and
//! tests.

use crate::allocator_bands::{self, allocator_bands, AllocatorBand, StrategyScores};
use crate::config::ScaleConfig;
use crate::cost::{self, CostModel};
use crate::error::{create_dir, write_file, Result};
use crate::eval::execute_files;
use crate::execute::Executed;
use crate::online_folds::{online_folds, OnlineFolds};
use crate::pool::Pool;
use crate::report::plot::{self, Chart};
use crate::report::write_json;
use crate::reporter::Reporter;
use crate::session::Sandbox;
use codejury_core::agreement;
use codejury_core::allocate::{
    online_snapshots, online_snapshots_deferring, predicted_pass_rate, pruned_coderm, scores_with,
    tests_run, unsolvable, Strategy,
};
use codejury_core::metrics::{oracle, spearman, vanilla, Task};
use codejury_core::Rule;
use codejury_store::Store;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// The probe's held-out predicted pass rate per problem, from the hidden
/// state of each problem's prompt.
fn probe_predictions(
    args: &ScaleConfig,
    prompts: &[String],
    truth: &[f64],
    reporter: &dyn Reporter,
) -> Result<Option<Vec<f64>>> {
    let spec: crate::backend::Spec = match args.probe_model.as_str() {
        "none" => return Ok(None),
        s => s
            .parse()
            .map_err(|e| crate::error::config(format!("--probe-model {e}")))?,
    };
    let crate::backend::Spec::Embedded(path) = spec else {
        return Err(crate::error::config(
            "--probe-model needs an embedded model (hidden states are read in-process)",
        ));
    };
    hidden_states(args, path.as_deref(), prompts, reporter).map(|x| {
        let cfg = codejury_core::probe::ProbeConfig {
            seed: args.eval.seed,
            ..Default::default()
        };
        Some(codejury_core::probe::cross_fit(
            &x,
            truth,
            args.probe_folds,
            cfg,
        ))
    })
}

#[cfg(feature = "embedded")]
fn hidden_states(
    args: &ScaleConfig,
    path: Option<&Path>,
    prompts: &[String],
    reporter: &dyn Reporter,
) -> Result<Vec<Vec<f32>>> {
    use crate::reporter::Stage;
    let g = crate::backend::embedded(path, args.threads)?;
    reporter.start(&Stage::HiddenStates, prompts.len() as u64, 0);
    let mut x = Vec::with_capacity(prompts.len());
    for p in prompts {
        x.push(g.hidden_state(&codejury_llm::Prompt::Text(p.clone()))?);
        reporter.advance(&Stage::HiddenStates, 1);
    }
    reporter.finish(&Stage::HiddenStates);
    Ok(x)
}

#[cfg(not(feature = "embedded"))]
fn hidden_states(
    _: &ScaleConfig,
    _: Option<&Path>,
    _: &[String],
    _: &dyn Reporter,
) -> Result<Vec<Vec<f32>>> {
    Err(crate::error::config(
        "--probe-model needs the embedded model, which this build lacks; pass --probe-model none",
    ))
}

/// Held-out predicted pass rates from how much each problem's candidates
/// agree in their text ([`codejury_core::agreement`]), cross-fitted over
/// the same folds as the probe. Candidates are compared without the
/// problem's prompt, which every one of them shares.
fn similarity_predictions(
    pool: &Pool,
    prompts: &[String],
    truth: &[f64],
    args: &ScaleConfig,
    comment: &str,
) -> Vec<f64> {
    let x: Vec<Vec<f32>> = pool
        .tasks
        .iter()
        .zip(prompts)
        .map(|(tp, prompt)| {
            let bodies: Vec<&str> = tp
                .rows
                .iter()
                .map(|&p| {
                    let program = tp.programs[p].as_str();
                    program.strip_prefix(prompt.as_str()).unwrap_or(program)
                })
                .collect();
            agreement::features(&bodies, comment).to_vec()
        })
        .collect();
    let cfg = codejury_core::probe::ProbeConfig {
        seed: args.eval.seed,
        ..Default::default()
    };
    codejury_core::probe::cross_fit(&x, truth, args.probe_folds, cfg)
}

/// Bands of the difficulty table.
const QUINTILES: usize = 5;

/// Draws of a band's problems behind each gain's interval.
const BAND_DRAWS: usize = 1000;

struct Curve {
    strategy: Strategy,
    points: Vec<Point>,
    /// Each problem's score at each budget, averaged over shuffles.
    per_task: Vec<Vec<f64>>,
}

/// One strategy at one budget, averaged over problems and shuffles.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Point {
    /// Test generations per problem asked for.
    pub budget: usize,
    /// Test generations per problem bought (fewer where problems ran out).
    #[serde(rename = "tests_used")]
    pub generations: f64,
    /// Tests (columns) those generations gave per problem: what the sandbox
    /// runs against every candidate, so the execution cost. On a CodeT pool
    /// a generation gives zero to five of them, and allocators differ in
    /// which kind they buy.
    pub tests_run: f64,
    /// Expected accuracy of the rule's pick.
    pub accuracy: f64,
    /// The tester's tokens per problem for the generations bought (counted
    /// with the report's tokenizer; absent with `--tokenizer none`).
    pub tester_tokens: Option<f64>,
    /// Policy plus tester FLOPs per problem, when both sizes are given.
    pub flops: Option<f64>,
    /// Seconds per problem, one call and one pair after another: the
    /// policy's calls, the bought generations' calls, and the sandbox
    /// running their tests against every distinct candidate (only for a
    /// pool that recorded its calls, as a `run`'s files do).
    pub latency_s: Option<f64>,
}

/// Where a strategy first reaches uniform's full-budget accuracy, in tests.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TestsToMatch {
    /// Tests run per problem there.
    pub tests_run: f64,
    /// Their share of the pool's tests.
    pub share_of_pool_tests: f64,
}

/// Executions at the full budget, with and without pruning candidates that
/// can no longer reach the top.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Pruning {
    /// Without pruning.
    pub executions_full: usize,
    /// With pruning.
    pub executions_pruned: usize,
    /// Saved.
    pub saved: usize,
}

/// `scale.json` and the `--json` summary of `scale`.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleSummary {
    /// Tasks with candidates.
    pub tasks: usize,
    /// Most test generations of one problem.
    pub max_tests: usize,
    /// Mean fraction of correct candidates.
    pub vanilla: f64,
    /// Fraction of tasks with a correct candidate.
    pub oracle: f64,
    /// The rule the budget is spent for.
    pub rule: Rule,
    /// Shuffles of the buying order.
    pub repeats: usize,
    /// Seed of the shuffles.
    pub seed: u64,
    /// Each strategy's curve.
    pub strategies: BTreeMap<&'static str, Vec<Point>>,
    /// Tests per problem in the pool.
    pub pool_tests_per_problem: f64,
    /// Uniform's accuracy at the full budget.
    pub uniform_full_budget_accuracy: f64,
    /// Generations per problem online needs to reach it.
    pub online_tests_to_match_uniform_full: Option<f64>,
    /// The same for uniform.
    pub uniform_tests_to_match_uniform_full: Option<f64>,
    /// The same for online-oracle.
    pub online_oracle_tests_to_match_uniform_full: Option<f64>,
    /// The same in tests run.
    pub tests_run_to_match_uniform_full: BTreeMap<&'static str, Option<TestsToMatch>>,
    /// Spearman correlation of the first generation's pass rate with the
    /// true pass rate (averaged over shuffles).
    pub predictor_spearman: f64,
    /// The probe's held-out Spearman correlation.
    pub probe_spearman_held_out: Option<f64>,
    /// The text agreement's held-out Spearman correlation.
    pub similarity_spearman_held_out: f64,
    /// The probe's model.
    pub probe_model: String,
    /// Executions saved by pruning.
    pub pruning: Pruning,
    /// Each strategy's gain over uniform per quintile of the policy's pass
    /// rate, at every budget.
    pub difficulty: Vec<AllocatorBand>,
    /// The budget `scale.md`'s difficulty table is read at: a third of the
    /// pool's generations.
    pub difficulty_budget: usize,
    /// How the compute curves count (absent with `--tokenizer none`).
    pub cost: Option<CostModel>,
    /// Online with its horizon tuned on other folds of problems and scored
    /// on the held-out one (absent with `--folds` below 2).
    pub online_cross_fitted: Option<OnlineFolds>,
}

/// Runs `scale`: writes `scale.json`, `scale.md` and the plots into
/// `config.eval.out`.
pub fn scale(
    sandbox: &Sandbox,
    store: &Store,
    config: &ScaleConfig,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<(ScaleSummary, String)> {
    let e = &config.eval;
    let (_, run) = execute_files(
        sandbox, store, &e.bench, &e.pool, &e.limits, reporter, cancel,
    )?;
    scale_executed(&run, sandbox.language().line_comment(), config, reporter)
}

/// [`scale`] on a pool already executed (`study` executes once for all of
/// its reports); `comment` is the language's line comment, which the text
/// agreement predictor strips.
pub fn scale_executed(
    run: &Executed,
    comment: &str,
    config: &ScaleConfig,
    reporter: &dyn Reporter,
) -> Result<(ScaleSummary, String)> {
    let args = config;
    let e = &config.eval;
    let (tasks, prompts, pool) = (&run.tasks, &run.prompts, &run.pool);
    let truth: Vec<f64> = tasks
        .iter()
        .map(|t| t.labels.iter().filter(|&&l| l).count() as f64 / t.labels.len().max(1) as f64)
        .collect();
    let probe = probe_predictions(args, prompts, &truth, reporter)?;
    let probe_rho = probe.as_deref().map(|p| spearman(p, &truth));
    let similarity = similarity_predictions(pool, prompts, &truth, args, comment);
    let similarity_rho = spearman(&similarity, &truth);
    let p = tasks.len().max(1);
    let max_m = tasks.iter().map(|t| t.generations.len()).max().unwrap_or(0);
    // Powers of two and the points halfway between (1, 2, 3, 4, 6, 8, 12,
    // ...), so the budget a strategy needs is read at a useful resolution.
    let mut budgets = Vec::new();
    let mut k = 1;
    while k < max_m {
        budgets.push(k);
        if k >= 2 && k + k / 2 < max_m {
            budgets.push(k + k / 2);
        }
        k *= 2;
    }
    budgets.push(max_m.max(1));
    // A third of the pool: the budget the target is read at.
    let third = max_m.div_ceil(3).max(1);
    budgets.push(third);
    budgets.sort_unstable();
    budgets.dedup();

    let tokens = cost::count(pool, prompts, &args.tokenizer)?;
    let policy_tokens = tokens
        .as_ref()
        .map(|t| t.policy.iter().sum::<f64>() / p as f64);
    let seconds = cost::seconds(pool, &run.pair_ms);
    let policy_seconds = seconds
        .as_ref()
        .map(|s| s.policy.iter().sum::<f64>() / p as f64);
    let mut rng = ChaCha8Rng::seed_from_u64(e.seed);
    // Each shuffle's order of every problem's generations, kept to count
    // what the generations an allocation buys cost.
    let mut orders: Vec<Vec<Vec<usize>>> = Vec::new();
    let shuffles: Vec<Vec<Task>> = (0..e.repeats.max(1))
        .map(|_| {
            let mut shuffle_orders = Vec::with_capacity(tasks.len());
            let shuffled = tasks
                .iter()
                .map(|t| {
                    let (task, order) = shuffle_generations(t, &mut rng);
                    shuffle_orders.push(order);
                    task
                })
                .collect();
            orders.push(shuffle_orders);
            shuffled
        })
        .collect();
    let totals: Vec<usize> = budgets.iter().map(|&avg| avg * p).collect();
    let curves: Vec<Curve> = Strategy::ALL
        .iter()
        .filter(|&&s| s != Strategy::GreedyProbe || probe.is_some())
        .map(|&strategy| {
            let mut sums = vec![(0.0, 0.0, 0.0); budgets.len()];
            let mut spent = vec![0.0; budgets.len()];
            let mut waited = vec![0.0; budgets.len()];
            let mut per_task = vec![vec![0.0; tasks.len()]; budgets.len()];
            for (ts, order) in shuffles.iter().zip(&orders) {
                let allocations: Vec<Vec<usize>> = if strategy == Strategy::Online {
                    online_snapshots(ts, &totals, args.rule, e.seed)
                } else if strategy == Strategy::OnlineOracle {
                    online_snapshots_deferring(ts, &totals, args.rule, e.seed, &unsolvable(ts))
                } else {
                    totals
                        .iter()
                        .map(|&total| {
                            let predicted = match strategy {
                                Strategy::GreedyProbe => probe.as_deref(),
                                Strategy::GreedySimilarity => Some(similarity.as_slice()),
                                _ => None,
                            };
                            strategy.allocate(ts, total, args.rule, predicted)
                        })
                        .collect()
                };
                for (k, b) in allocations.iter().enumerate() {
                    sums[k].0 += b.iter().sum::<usize>() as f64 / p as f64;
                    sums[k].1 += tests_run(ts, b);
                    let scores = scores_with(ts, b, args.rule);
                    sums[k].2 += scores.iter().sum::<f64>() / p as f64;
                    if let Some(t) = &tokens {
                        spent[k] += bought(&t.generations, order, b) / p as f64;
                    }
                    if let Some(s) = &seconds {
                        waited[k] += bought(&s.generations, order, b) / p as f64;
                    }
                    for (sum, s) in per_task[k].iter_mut().zip(scores) {
                        *sum += s;
                    }
                }
            }
            let r = shuffles.len() as f64;
            per_task.iter_mut().flatten().for_each(|s| *s /= r);
            Curve {
                strategy,
                points: budgets
                    .iter()
                    .zip(sums)
                    .zip(spent.iter().zip(&waited))
                    .map(|((&budget, (g, t, a)), (&spent, &waited))| {
                        let tester_tokens = tokens.as_ref().map(|_| spent / r);
                        Point {
                            budget,
                            generations: g / r,
                            tests_run: t / r,
                            accuracy: a / r,
                            tester_tokens,
                            flops: compute(args, policy_tokens, tester_tokens),
                            latency_s: policy_seconds.map(|s| s + waited / r),
                        }
                    })
                    .collect(),
                per_task,
            }
        })
        .collect();

    let cross_fitted = online_folds(&shuffles, &budgets, args.rule, e.seed, args.folds);

    // Predictor quality: λ̂ from the first (shuffled) test against the true pass rate.
    let rho: f64 = shuffles
        .iter()
        .map(|ts| {
            let pred: Vec<f64> = ts.iter().map(predicted_pass_rate).collect();
            spearman(&pred, &truth)
        })
        .sum::<f64>()
        / shuffles.len() as f64;

    // Pruning at the full budget.
    let full: usize = tasks
        .iter()
        .map(|t| t.matrix.rows() * t.matrix.distinct_cols().len())
        .sum();
    let pruned: usize = tasks.iter().map(|t| pruned_coderm(&t.matrix).1).sum();

    let uniform_full = curves[0].points.last().map_or(0.0, |x| x.accuracy);
    let pool_tests = tasks.iter().map(|t| t.matrix.cols()).sum::<usize>() as f64 / p as f64;
    // The first budget at which a strategy reaches uniform's full-budget
    // accuracy (generations actually bought there).
    let first_match = |s: Strategy| {
        curves.iter().find(|c| c.strategy == s).and_then(|c| {
            c.points
                .iter()
                .find(|x| x.accuracy >= uniform_full - 1e-9)
                .copied()
        })
    };
    let to_match = |s: Strategy| first_match(s).map(|x| x.generations);
    // The same point in tests run, absolute and as a share of the pool's.
    let tests_to_match = |s: Strategy| {
        first_match(s).map(|x| TestsToMatch {
            tests_run: x.tests_run,
            share_of_pool_tests: x.tests_run / pool_tests.max(f64::MIN_POSITIVE),
        })
    };
    let summary = ScaleSummary {
        tasks: tasks.len(),
        max_tests: max_m,
        vanilla: vanilla(tasks),
        oracle: oracle(tasks),
        rule: args.rule,
        repeats: e.repeats,
        seed: e.seed,
        strategies: curves
            .iter()
            .map(|c| (c.strategy.as_str(), c.points.clone()))
            .collect(),
        pool_tests_per_problem: pool_tests,
        uniform_full_budget_accuracy: uniform_full,
        online_tests_to_match_uniform_full: to_match(Strategy::Online),
        uniform_tests_to_match_uniform_full: to_match(Strategy::Uniform),
        online_oracle_tests_to_match_uniform_full: to_match(Strategy::OnlineOracle),
        tests_run_to_match_uniform_full: [
            Strategy::Online,
            Strategy::OnlineOracle,
            Strategy::Uniform,
        ]
        .into_iter()
        .map(|s| (s.as_str(), tests_to_match(s)))
        .collect(),
        predictor_spearman: rho,
        probe_spearman_held_out: probe_rho,
        similarity_spearman_held_out: similarity_rho,
        probe_model: args.probe_model.clone(),
        pruning: Pruning {
            executions_full: full,
            executions_pruned: pruned,
            saved: full - pruned,
        },
        difficulty: allocator_bands(
            tasks,
            &curves
                .iter()
                .map(|c| StrategyScores {
                    strategy: c.strategy,
                    scores: &c.per_task,
                })
                .collect::<Vec<_>>(),
            &budgets,
            QUINTILES,
            BAND_DRAWS,
            e.seed,
        ),
        difficulty_budget: third,
        cost: tokens
            .as_ref()
            .zip(policy_tokens)
            .map(|(t, policy)| CostModel {
                tokenizer: t.tokenizer.clone(),
                policy_tokens_per_problem: policy,
                policy_seconds_per_problem: policy_seconds,
                policy_params: args.policy_params,
                tester_params: args.tester_params,
                note: if seconds.is_some() {
                    cost::RECORDED_NOTE
                } else {
                    cost::NOTE
                },
            }),
        online_cross_fitted: cross_fitted,
    };
    create_dir(&e.out)?;
    write_json(&e.out.join("scale.json"), &summary)?;
    let table = render_table(&curves, &summary);
    write_file(
        &e.out.join("scale.md"),
        format!(
            "# codejury scale\n\n{table}\n{}\n{}\n{}\n{}\n## Difficulty\n\n{}",
            render_folds_table(&curves, &summary),
            render_tests_table(&curves),
            render_compute_table(&curves, &summary),
            render_latency_table(&curves, &summary),
            allocator_bands::markdown(&summary.difficulty, summary.difficulty_budget)
        )
        .as_bytes(),
    )?;
    draw(&e.out, &curves, summary.vanilla, summary.oracle)?;
    if let Some(cost) = &summary.cost {
        draw_compute(&e.out, &curves, &summary, cost)?;
    }
    if has_latency(&curves) {
        let x = |p: &Point| p.latency_s.unwrap_or(0.0);
        draw_against(
            &e.out.join("scale-latency.svg"),
            "accuracy vs latency",
            "seconds per problem (model calls + sandbox, one after another)",
            &curves,
            &summary,
            &x,
        )?;
    }
    Ok((summary, table))
}

/// `t` with its generations (each whole, with all of its columns) in a
/// random order, and that order: the order a budget buys them in.
pub(crate) fn shuffle_generations(t: &Task, rng: &mut ChaCha8Rng) -> (Task, Vec<usize>) {
    let mut starts = Vec::with_capacity(t.generations.len());
    let mut at = 0;
    for &g in &t.generations {
        starts.push(at);
        at += g;
    }
    let mut order: Vec<usize> = (0..t.generations.len()).collect();
    order.shuffle(rng);
    let cols: Vec<usize> = order
        .iter()
        .flat_map(|&g| starts[g]..starts[g] + t.generations[g])
        .collect();
    let rows: Vec<usize> = (0..t.matrix.rows()).collect();
    let task = Task {
        matrix: t.matrix.select(&rows, &cols),
        labels: t.labels.clone(),
        generations: order.iter().map(|&g| t.generations[g]).collect(),
    };
    (task, order)
}

/// What allocation `b` buys costs, summed over problems: each problem's
/// first `b[i]` generations in the shuffle's `order`, each costing
/// `per_generation[i][g]` (tokens or seconds).
fn bought(per_generation: &[Vec<f64>], order: &[Vec<usize>], b: &[usize]) -> f64 {
    per_generation
        .iter()
        .zip(order)
        .zip(b)
        .map(|((gens, order), &bought)| order.iter().take(bought).map(|&g| gens[g]).sum::<f64>())
        .sum()
}

/// Policy plus tester FLOPs per problem, when both models' sizes are known.
fn compute(
    args: &ScaleConfig,
    policy_tokens: Option<f64>,
    tester_tokens: Option<f64>,
) -> Option<f64> {
    Some(
        cost::flops(args.policy_params?, policy_tokens?)
            + cost::flops(args.tester_params?, tester_tokens?),
    )
}

/// A markdown table with a row per budget and a column per strategy,
/// `cell` writing each entry.
fn grid(caption: &str, curves: &[Curve], cell: impl Fn(&Point) -> String) -> String {
    let mut t = format!("{caption}\n\n| budget |");
    for c in curves {
        let _ = write!(t, " {} |", c.strategy.as_str());
    }
    t += "\n|---|";
    t += &"---|".repeat(curves.len());
    t += "\n";
    for (i, first) in curves[0].points.iter().enumerate() {
        let _ = write!(t, "| {} |", first.budget);
        for c in curves {
            let _ = write!(t, " {} |", cell(&c.points[i]));
        }
        t += "\n";
    }
    t
}

fn render_table(curves: &[Curve], s: &ScaleSummary) -> String {
    let caption = format!("{} accuracy (%) by average test generations per problem; tests actually used in brackets where fewer", s.rule.as_str());
    let uniform_full = s.uniform_full_budget_accuracy;
    let mut t = grid(&caption, curves, |x| {
        if x.generations + 1e-9 < x.budget as f64 {
            format!("{:.2} [{:.1}]", 100.0 * x.accuracy, x.generations)
        } else {
            format!("{:.2}", 100.0 * x.accuracy)
        }
    });
    let _ = writeln!(
        t,
        "\nvanilla {:.2}%, oracle {:.2}%; uniform's full-budget accuracy ({:.2}%{}) is reached by online with {}, by online-oracle with {} and by uniform with {} test generations per problem on average (the pool has {}; in brackets the share of the pool's {:.1} tests per problem they run); first-generation pass-rate predictor: Spearman {:.3} with the true pass rate; hidden-state probe ({}): held-out Spearman {}; candidates' text agreement: held-out Spearman {:.3}; pruning runs {} of {} executions at the full budget.",
        100.0 * s.vanilla,
        100.0 * s.oracle,
        100.0 * uniform_full,
        if uniform_full < s.vanilla {
            ", below vanilla: under this rule all the tests pick worse than none"
        } else {
            ""
        },
        reached_at(s, Strategy::Online, s.online_tests_to_match_uniform_full),
        reached_at(s, Strategy::OnlineOracle, s.online_oracle_tests_to_match_uniform_full),
        reached_at(s, Strategy::Uniform, s.uniform_tests_to_match_uniform_full),
        s.max_tests,
        s.pool_tests_per_problem,
        s.predictor_spearman,
        s.probe_model,
        s.probe_spearman_held_out.map_or("n/a".to_string(), |x| format!("{x:.3}")),
        s.similarity_spearman_held_out,
        s.pruning.executions_pruned,
        s.pruning.executions_full,
    );
    t
}

/// `"48.0 [27%]"`: the generations per problem at which `strategy` first
/// reaches uniform's full-budget accuracy, and the share of the pool's
/// tests it runs there; `"no"` if it never does.
fn reached_at(s: &ScaleSummary, strategy: Strategy, generations: Option<f64>) -> String {
    match generations {
        None => "no".to_string(),
        Some(g) => {
            let share = s
                .tests_run_to_match_uniform_full
                .get(strategy.as_str())
                .copied()
                .flatten()
                .map_or(0.0, |m| m.share_of_pool_tests);
            format!("{g:.1} [{:.0}%]", 100.0 * share)
        }
    }
}

/// The tests each strategy runs per problem at each budget, in `scale.md`
/// beside the accuracy table: what the sandbox spends, where the budget
/// counts model calls.
fn render_tests_table(curves: &[Curve]) -> String {
    grid(
        "tests run per problem (the sandbox's cost) at each budget",
        curves,
        |x| format!("{:.1}", x.tests_run),
    )
}

/// The online allocator held out: its horizon tuned on the other folds,
/// beside the same tuning in-sample and the fixed default.
fn render_folds_table(curves: &[Curve], s: &ScaleSummary) -> String {
    let Some(f) = &s.online_cross_fitted else {
        return "online, cross-fitted: not computed (`--folds` below 2)\n".to_string();
    };
    let at = |strategy: Strategy, k: usize| {
        curves
            .iter()
            .find(|c| c.strategy == strategy)
            .and_then(|c| c.points.get(k))
            .map_or(f64::NAN, |p| p.accuracy)
    };
    let mut t = format!(
        "online held out: {} folds of problems; each fold's horizon (of {:?} generations) is chosen on the other folds by mean accuracy over all budgets, and scored on the fold (chosen: {:?}). In-sample: the horizon all problems choose ({}), scored on them. The fixed default (horizon {}) and the rest of online's design were developed on the shared CodeGen-16B half, so on that half its column is in-sample too.\n\n| budget | uniform | online held out | gain held out | online in-sample (tuned) | online (default, fixed) |\n|---|---|---|---|---|---|\n",
        f.folds, f.horizons, f.chosen, f.chosen_in_sample, codejury_core::allocate::HORIZON
    );
    for (k, p) in f.points.iter().enumerate() {
        let u = at(Strategy::Uniform, k);
        let _ = writeln!(
            t,
            "| {} | {:.2} | {:.2} | {:+.2} | {:.2} | {:.2} |",
            p.budget,
            100.0 * u,
            100.0 * p.held_out,
            100.0 * (p.held_out - u),
            100.0 * p.in_sample,
            100.0 * at(Strategy::Online, k)
        );
    }
    t
}

/// Accuracy against compute: FLOPs per problem (policy and tester) when
/// both models' sizes are given, else tokens per problem.
fn render_compute_table(curves: &[Curve], s: &ScaleSummary) -> String {
    let Some(cost) = &s.cost else {
        return "compute: not counted (`--tokenizer none`)\n".to_string();
    };
    let flops = curves[0].points.iter().all(|p| p.flops.is_some());
    let unit = if flops { "FLOPs" } else { "tokens" };
    let mut t = grid(
        &format!(
            "{} accuracy (%) @ {unit} per problem (policy + tester), by budget",
            s.rule.as_str()
        ),
        curves,
        |x| format!("{:.2} @ {:.3e}", 100.0 * x.accuracy, compute_x(x, cost)),
    );
    let _ = writeln!(
        t,
        "\nPolicy: {:.0} tokens per problem{}; tester: {}. {}. Tokenizer: {}.",
        cost.policy_tokens_per_problem,
        cost.policy_params
            .map_or(String::new(), |p| format!(" × {} parameters", params(p))),
        cost.tester_params
            .map_or("its tokens as bought".to_string(), |p| format!(
                "{} parameters",
                params(p)
            )),
        cost.note,
        cost.tokenizer
    );
    t
}

/// `16.0B`, `135M`.
fn params(p: u64) -> String {
    if p >= 1_000_000_000 {
        format!("{:.1}B", p as f64 / 1e9)
    } else {
        format!("{:.0}M", p as f64 / 1e6)
    }
}

/// The compute axis of one point: FLOPs when known, else tokens (policy
/// plus tester) per problem.
fn compute_x(p: &Point, cost: &CostModel) -> f64 {
    p.flops
        .unwrap_or(cost.policy_tokens_per_problem + p.tester_tokens.unwrap_or(0.0))
}

/// Draws `scale-compute.svg`: accuracy against FLOPs (or tokens) per
/// problem.
fn draw_compute(dir: &Path, curves: &[Curve], s: &ScaleSummary, cost: &CostModel) -> Result<()> {
    let flops = curves[0].points.iter().all(|p| p.flops.is_some());
    let xlabel = if flops {
        "FLOPs per problem (policy + tester)"
    } else {
        "tokens per problem (policy + tester)"
    };
    let x = |p: &Point| compute_x(p, cost);
    draw_against(
        &dir.join("scale-compute.svg"),
        "accuracy vs compute",
        xlabel,
        curves,
        s,
        &x,
    )
}

/// One chart of every strategy's accuracy against `x` of its points.
fn draw_against(
    path: &Path,
    title: &str,
    xlabel: &str,
    curves: &[Curve],
    s: &ScaleSummary,
    x: &dyn Fn(&Point) -> f64,
) -> Result<()> {
    let chart = Chart {
        title,
        xlabel,
        curves: curves
            .iter()
            .map(|c| {
                (
                    c.strategy.as_str().to_string(),
                    c.points.iter().map(|p| (x(p), p.accuracy)).collect(),
                )
            })
            .collect(),
        lines: vec![("oracle", s.oracle), ("vanilla", s.vanilla)],
    };
    plot::draw(path, &chart).map(|_| ())
}

/// Whether every point of the curves has a latency (a recorded pool).
fn has_latency(curves: &[Curve]) -> bool {
    curves
        .iter()
        .all(|c| c.points.iter().all(|p| p.latency_s.is_some()))
}

/// Accuracy against seconds per problem, for a pool that recorded them.
fn render_latency_table(curves: &[Curve], s: &ScaleSummary) -> String {
    if !has_latency(curves) {
        return "latency: not recorded in this pool (a `run`'s `solutions.jsonl` and `tests.jsonl` record it)\n".to_string();
    }
    let mut t = grid(
        &format!(
            "{} accuracy (%) @ seconds per problem (model calls and sandbox, one after another), by budget",
            s.rule.as_str()
        ),
        curves,
        |x| format!("{:.2} @ {:.2}s", 100.0 * x.accuracy, x.latency_s.unwrap_or(0.0)),
    );
    if let Some(policy) = s.cost.as_ref().and_then(|c| c.policy_seconds_per_problem) {
        let _ = writeln!(
            t,
            "\nThe policy's calls take {policy:.2}s per problem whatever the budget."
        );
    }
    t
}

/// Draws `scale.svg` (accuracy against generations bought) and
/// `scale-tests.svg` (against tests run) into `dir`.
fn draw(dir: &Path, curves: &[Curve], vanilla: f64, oracle: f64) -> Result<()> {
    for (file, title, xlabel, x) in [
        (
            "scale.svg",
            "accuracy vs test budget",
            "test generations per problem (used)",
            (|p: &Point| p.generations) as fn(&Point) -> f64,
        ),
        (
            "scale-tests.svg",
            "accuracy vs tests run",
            "tests run per problem",
            |p: &Point| p.tests_run,
        ),
    ] {
        let chart = Chart {
            title,
            xlabel,
            curves: curves
                .iter()
                .map(|c| {
                    (
                        c.strategy.as_str().to_string(),
                        c.points.iter().map(|p| (x(p), p.accuracy)).collect(),
                    )
                })
                .collect(),
            lines: vec![("oracle", oracle), ("vanilla", vanilla)],
        };
        plot::draw(&dir.join(file), &chart)?;
    }
    Ok(())
}
