//! `codejury scale`: how accuracy grows with the budget of test generations
//! under each allocation strategy, on a pool of pre-generated candidates and
//! tests.

use crate::cmd::eval::{run_pool, PoolArgs, PoolRun};
use crate::common::Output;
use crate::plot::Chart;
use crate::pool::Pool;
use anyhow::{Context, Result};
use codejury_core::agreement;
use codejury_core::allocate::{
    accuracy_with, online_snapshots, online_snapshots_deferring, predicted_pass_rate,
    pruned_coderm, tests_run, unsolvable, Strategy,
};
use codejury_core::metrics::{oracle, spearman, vanilla, Task};
use codejury_core::Rule;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags of `scale`.
#[derive(clap::Args, Debug)]
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
}

/// The probe's held-out predicted pass rate per problem, from the hidden
/// state of each problem's prompt.
fn probe_predictions(args: &Args, prompts: &[String], truth: &[f64]) -> Result<Option<Vec<f64>>> {
    let spec: crate::backend::Spec = match args.probe_model.as_str() {
        "none" => return Ok(None),
        s => s
            .parse()
            .map_err(|e| anyhow::anyhow!("--probe-model {e}"))?,
    };
    let crate::backend::Spec::Embedded(path) = spec else {
        anyhow::bail!("--probe-model needs an embedded model (hidden states are read in-process)");
    };
    let path = match path {
        Some(p) => p,
        None => codejury_bench::fetch::locate(&codejury_bench::fetch::SMOLLM2)?,
    };
    let g = codejury_embedded::EmbeddedGenerator::load(codejury_embedded::EmbeddedConfig {
        identity: path.display().to_string(),
        model: path,
        threads: args.threads,
    })?;
    let bar = crate::common::progress(prompts.len() as u64, "hidden");
    let x = prompts
        .iter()
        .map(|p| {
            bar.inc(1);
            g.hidden_state(&codejury_llm::Prompt::Text(p.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    bar.finish_and_clear();
    let cfg = codejury_core::probe::ProbeConfig {
        seed: args.seed,
        ..Default::default()
    };
    Ok(Some(codejury_core::probe::cross_fit(
        &x,
        truth,
        args.probe_folds,
        cfg,
    )))
}

/// Held-out predicted pass rates from how much each problem's candidates
/// agree in their text ([`codejury_core::agreement`]), cross-fitted over
/// the same folds as the probe. Candidates are compared without the
/// problem's prompt, which every one of them shares.
fn similarity_predictions(pool: &Pool, prompts: &[String], truth: &[f64], args: &Args) -> Vec<f64> {
    let x: Vec<Vec<f32>> = pool
        .tasks
        .values()
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
            agreement::features(&bodies).to_vec()
        })
        .collect();
    let cfg = codejury_core::probe::ProbeConfig {
        seed: args.seed,
        ..Default::default()
    };
    codejury_core::probe::cross_fit(&x, truth, args.probe_folds, cfg)
}

fn parse_rule(s: &str) -> Result<Rule, String> {
    s.parse::<Rule>().map_err(|e| e.to_string())
}

struct Curve {
    strategy: Strategy,
    points: Vec<Point>,
}

/// One strategy at one budget, averaged over problems and shuffles.
#[derive(Debug, Clone, Copy)]
struct Point {
    /// Test generations per problem asked for.
    budget: usize,
    /// Test generations per problem bought (fewer where problems ran out).
    generations: f64,
    /// Tests (columns) those generations gave per problem: what the sandbox
    /// runs against every candidate, so the execution cost. On a CodeT pool
    /// a generation gives zero to five of them, and allocators differ in
    /// which kind they buy.
    tests: f64,
    /// Expected accuracy of the rule's pick.
    accuracy: f64,
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let PoolRun {
        tasks,
        prompts,
        pool,
        ..
    } = run_pool(&args.pool)?;
    let truth: Vec<f64> = tasks
        .iter()
        .map(|t| t.labels.iter().filter(|&&l| l).count() as f64 / t.labels.len().max(1) as f64)
        .collect();
    let probe = probe_predictions(&args, &prompts, &truth)?;
    let probe_rho = probe.as_deref().map(|p| spearman(p, &truth));
    let similarity = similarity_predictions(&pool, &prompts, &truth, &args);
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
    budgets.push(max_m.div_ceil(3).max(1));
    budgets.sort_unstable();
    budgets.dedup();

    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let shuffles: Vec<Vec<Task>> = (0..args.repeats.max(1))
        .map(|_| {
            tasks
                .iter()
                .map(|t| {
                    // Generations are bought whole, in a shuffled order.
                    let mut starts = Vec::with_capacity(t.generations.len());
                    let mut at = 0;
                    for &g in &t.generations {
                        starts.push(at);
                        at += g;
                    }
                    let mut order: Vec<usize> = (0..t.generations.len()).collect();
                    order.shuffle(&mut rng);
                    let cols: Vec<usize> = order
                        .iter()
                        .flat_map(|&g| starts[g]..starts[g] + t.generations[g])
                        .collect();
                    let rows: Vec<usize> = (0..t.matrix.rows()).collect();
                    Task {
                        matrix: t.matrix.select(&rows, &cols),
                        labels: t.labels.clone(),
                        generations: order.iter().map(|&g| t.generations[g]).collect(),
                    }
                })
                .collect()
        })
        .collect();
    let totals: Vec<usize> = budgets.iter().map(|&avg| avg * p).collect();
    let curves: Vec<Curve> = Strategy::ALL
        .iter()
        .filter(|&&s| s != Strategy::GreedyProbe || probe.is_some())
        .map(|&strategy| {
            let mut sums = vec![(0.0, 0.0, 0.0); budgets.len()];
            for ts in &shuffles {
                let allocations: Vec<Vec<usize>> = if strategy == Strategy::Online {
                    online_snapshots(ts, &totals, args.rule, args.seed)
                } else if strategy == Strategy::OnlineOracle {
                    online_snapshots_deferring(ts, &totals, args.rule, args.seed, &unsolvable(ts))
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
                    sums[k].2 += accuracy_with(ts, b, args.rule);
                }
            }
            let r = shuffles.len() as f64;
            Curve {
                strategy,
                points: budgets
                    .iter()
                    .zip(sums)
                    .map(|(&budget, (g, t, a))| Point {
                        budget,
                        generations: g / r,
                        tests: t / r,
                        accuracy: a / r,
                    })
                    .collect(),
            }
        })
        .collect();

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
        first_match(s).map(|x| json!({"tests_run": x.tests, "share_of_pool_tests": x.tests / pool_tests.max(f64::MIN_POSITIVE)}))
    };
    let summary = json!({
        "tasks": tasks.len(),
        "max_tests": max_m,
        "vanilla": vanilla(&tasks),
        "oracle": oracle(&tasks),
        "rule": args.rule.as_str(),
        "repeats": args.repeats,
        "seed": args.seed,
        "strategies": curves.iter().map(|c| (c.strategy.as_str().to_string(), Value::Array(c.points.iter().map(|x| json!({"budget": x.budget, "tests_used": x.generations, "tests_run": x.tests, "accuracy": x.accuracy})).collect()))).collect::<serde_json::Map<_, _>>(),
        "pool_tests_per_problem": pool_tests,
        "uniform_full_budget_accuracy": uniform_full,
        "online_tests_to_match_uniform_full": to_match(Strategy::Online),
        "uniform_tests_to_match_uniform_full": to_match(Strategy::Uniform),
        "online_oracle_tests_to_match_uniform_full": to_match(Strategy::OnlineOracle),
        "tests_run_to_match_uniform_full": {
            "online": tests_to_match(Strategy::Online),
            "online-oracle": tests_to_match(Strategy::OnlineOracle),
            "uniform": tests_to_match(Strategy::Uniform),
        },
        "predictor_spearman": rho,
        "probe_spearman_held_out": probe_rho,
        "similarity_spearman_held_out": similarity_rho,
        "probe_model": args.probe_model,
        "pruning": {"executions_full": full, "executions_pruned": pruned, "saved": full - pruned},
    });
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    std::fs::write(
        args.out.join("scale.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    let table = render_table(&curves, &summary);
    std::fs::write(
        args.out.join("scale.md"),
        format!(
            "# codejury scale\n\n{table}\n{}",
            render_tests_table(&curves)
        ),
    )?;
    plot(&args.out, &curves, vanilla(&tasks), oracle(&tasks))?;
    out.summary(&summary, || print!("{table}"));
    Ok(ExitCode::SUCCESS)
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

fn render_table(curves: &[Curve], s: &Value) -> String {
    let caption = format!("{} accuracy (%) by average test generations per problem; tests actually used in brackets where fewer", s["rule"].as_str().unwrap_or("coderm"));
    let uniform_full = s["uniform_full_budget_accuracy"].as_f64().unwrap_or(0.0);
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
        100.0 * s["vanilla"].as_f64().unwrap_or(0.0),
        100.0 * s["oracle"].as_f64().unwrap_or(0.0),
        100.0 * uniform_full,
        if uniform_full < s["vanilla"].as_f64().unwrap_or(0.0) {
            ", below vanilla: under this rule all the tests pick worse than none"
        } else {
            ""
        },
        reached_at(s, "online"),
        reached_at(s, "online-oracle"),
        reached_at(s, "uniform"),
        s["max_tests"],
        s["pool_tests_per_problem"].as_f64().unwrap_or(0.0),
        s["predictor_spearman"].as_f64().unwrap_or(0.0),
        s["probe_model"].as_str().unwrap_or("none"),
        s["probe_spearman_held_out"].as_f64().map_or("n/a".to_string(), |x| format!("{x:.3}")),
        s["similarity_spearman_held_out"].as_f64().unwrap_or(0.0),
        s["pruning"]["executions_pruned"],
        s["pruning"]["executions_full"],
    );
    t
}

/// `"48.0 [27%]"`: the generations per problem at which `strategy` first
/// reaches uniform's full-budget accuracy, and the share of the pool's
/// tests it runs there; `"no"` if it never does.
fn reached_at(s: &Value, strategy: &str) -> String {
    let key = format!("{}_tests_to_match_uniform_full", strategy.replace('-', "_"));
    match s[key.as_str()].as_f64() {
        None => "no".to_string(),
        Some(g) => {
            let share = s["tests_run_to_match_uniform_full"][strategy]["share_of_pool_tests"]
                .as_f64()
                .unwrap_or(0.0);
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
        |x| format!("{:.1}", x.tests),
    )
}

/// Draws `scale.svg` (accuracy against generations bought) and
/// `scale-tests.svg` (against tests run) into `dir`.
fn plot(dir: &Path, curves: &[Curve], vanilla: f64, oracle: f64) -> Result<()> {
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
            |p: &Point| p.tests,
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
        crate::plot::draw(&dir.join(file), &chart)?;
    }
    Ok(())
}
