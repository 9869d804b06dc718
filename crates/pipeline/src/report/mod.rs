//! The evaluation report: numbers, scaling curves, test quality, written as
//! JSON, Markdown and SVG plots. [`Summary`] is the typed form every caller
//! shares — the command line's `--json`, `report.json`, a server's response.

pub mod cost_curve;
pub mod html;
pub mod plot;

use crate::error::{create_dir, write_file, Error, Result};
use crate::execute::Executed;
use crate::pool::Pool;
use codejury_core::difficulty::{difficulty, Band};
use codejury_core::discard::Discards;
use codejury_core::metrics::{
    accuracy, bootstrap, oracle, per_test_quality, vanilla, vote_quality, Axis, Confusion,
    Estimate, Quality, Task,
};
use codejury_core::Rule;
use plot::Chart;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// One point of a scaling curve: accuracy per rule at `k` tests (or
/// candidates) per task.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Tests (or candidates) per task.
    pub k: usize,
    /// Accuracy per rule, by the rule's name.
    #[serde(flatten)]
    pub by_rule: BTreeMap<&'static str, Estimate>,
}

/// A classifier's counts against ground truth and the rates made of them.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Judged {
    /// TP, TN, FP, FN.
    pub counts: Confusion,
    /// Acc, F1, the paper's FAR/FRR, textbook FPR/FNR.
    pub rates: Quality,
}

impl From<Confusion> for Judged {
    fn from(counts: Confusion) -> Self {
        Judged {
            counts,
            rates: counts.quality(),
        }
    }
}

/// Test quality against ground truth.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TestQuality {
    /// Each test alone as a classifier of candidates.
    pub per_test: Judged,
    /// The CodeRM vote: accepted = in the top group.
    pub vote_coderm: Judged,
}

/// The bootstrap's settings.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BootstrapSettings {
    /// Draws per point.
    pub repeats: usize,
    /// Seed of the draws.
    pub seed: u64,
}

/// Everything the report says.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Tasks with candidates.
    pub tasks: usize,
    /// Sampled candidates.
    pub solutions: usize,
    /// Sampled tests (columns).
    pub tests: usize,
    /// Distinct tests.
    pub distinct_tests: usize,
    /// Mean fraction of correct candidates (a random pick).
    pub vanilla: f64,
    /// Fraction of tasks with a correct candidate (pass@N).
    pub oracle: f64,
    /// Accuracy of each rule, by name.
    #[serde(flatten)]
    pub rules: BTreeMap<&'static str, f64>,
    /// Test generations discarded, by reason.
    pub discarded_tests: Discards,
    /// Exact duplicate tests.
    pub duplicate_tests: usize,
    /// Test quality against ground truth.
    pub test_quality: TestQuality,
    /// The bootstrap's settings.
    pub bootstrap: BootstrapSettings,
    /// Accuracy against tests per task.
    pub scaling_tests: Vec<Point>,
    /// Accuracy against candidates per task.
    pub scaling_solutions: Vec<Point>,
    /// Problems in quintiles by the policy's pass rate (hardest first):
    /// per quintile, CodeRM's and CodeT's gain over vanilla as tests grow.
    pub difficulty: Vec<Band>,
    /// What each point of `scaling_tests` costs per problem, for a pool
    /// that recorded its calls (see [`Summary::with_cost`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_tests_cost: Option<Vec<cost_curve::CostAt>>,
}

/// The rules the difficulty table follows: the two papers' votes.
const DIFFICULTY_RULES: [Rule; 2] = [Rule::Coderm, Rule::Codet];

/// Bands of the difficulty table.
const QUINTILES: usize = 5;

fn powers_up_to(max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut k = 1;
    while k < max {
        out.push(k);
        k *= 2;
    }
    if max > 0 {
        out.push(max);
    }
    out
}

impl Summary {
    /// Computes the report of executed `tasks`.
    pub fn build(tasks: &[Task], pool: &Pool, repeats: usize, seed: u64) -> Summary {
        let max_tests = tasks
            .iter()
            .map(|t| t.matrix.distinct_cols().len())
            .max()
            .unwrap_or(0);
        let max_rows = tasks.iter().map(|t| t.matrix.rows()).max().unwrap_or(0);
        let curve = |axis: Axis, ks: Vec<usize>| -> Vec<Point> {
            ks.into_iter()
                .map(|k| Point {
                    k,
                    by_rule: Rule::ALL
                        .iter()
                        .map(|&r| (r.as_str(), bootstrap(r, tasks, axis, k, repeats, seed)))
                        .collect(),
                })
                .collect()
        };
        Summary {
            tasks: tasks.len(),
            solutions: tasks.iter().map(|t| t.matrix.rows()).sum(),
            tests: tasks.iter().map(|t| t.matrix.cols()).sum(),
            distinct_tests: tasks.iter().map(|t| t.matrix.distinct_cols().len()).sum(),
            vanilla: vanilla(tasks),
            oracle: oracle(tasks),
            rules: Rule::ALL
                .iter()
                .map(|&r| (r.as_str(), accuracy(r, tasks)))
                .collect(),
            discarded_tests: pool.discards.clone(),
            duplicate_tests: pool.duplicate_tests,
            test_quality: TestQuality {
                per_test: per_test_quality(tasks).into(),
                vote_coderm: vote_quality(Rule::Coderm, tasks).into(),
            },
            bootstrap: BootstrapSettings { repeats, seed },
            difficulty: difficulty(
                tasks,
                &DIFFICULTY_RULES,
                &powers_up_to(max_tests),
                QUINTILES,
                repeats,
                seed,
            ),
            scaling_tests: curve(Axis::Tests, powers_up_to(max_tests)),
            scaling_solutions: curve(Axis::Candidates, powers_up_to(max_rows)),
            scaling_tests_cost: None,
        }
    }

    /// The same summary with `scaling_tests` costed from what `executed`'s
    /// pool recorded (nothing changes for a pool that recorded nothing);
    /// FLOPs need both models' sizes.
    pub fn with_cost(
        mut self,
        executed: &Executed,
        policy_params: Option<u64>,
        tester_params: Option<u64>,
    ) -> Summary {
        let ks: Vec<usize> = self.scaling_tests.iter().map(|p| p.k).collect();
        self.scaling_tests_cost =
            cost_curve::cost_curve(executed, &ks, policy_params, tester_params);
        self
    }

    /// The accuracy of `rule`.
    pub fn accuracy(&self, rule: Rule) -> f64 {
        self.rules.get(rule.as_str()).copied().unwrap_or(0.0)
    }

    /// The human table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{} tasks, {} candidates, {} tests ({} distinct)",
            self.tasks, self.solutions, self.tests, self.distinct_tests
        );
        let _ = writeln!(t, "{:<22} {:>8}", "method", "accuracy");
        let _ = writeln!(
            t,
            "{:<22} {:>7.2}%",
            "vanilla (mean pass)",
            100.0 * self.vanilla
        );
        for r in Rule::ALL {
            let _ = writeln!(t, "{:<22} {:>7.2}%", r.as_str(), 100.0 * self.accuracy(r));
        }
        let _ = writeln!(t, "{:<22} {:>7.2}%", "oracle (pass@N)", 100.0 * self.oracle);
        t
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut md = String::from("# codejury evaluation\n\n");
        let _ = writeln!(
            md,
            "{} tasks, {} candidates, {} tests ({} distinct); {} test generations discarded, {} duplicate tests.\n",
            self.tasks,
            self.solutions,
            self.tests,
            self.distinct_tests,
            self.discarded_tests.total(),
            self.duplicate_tests
        );
        md += "| method | best-of-N accuracy |\n|---|---|\n";
        let _ = writeln!(
            md,
            "| vanilla (mean pass rate) | {:.2}% |",
            100.0 * self.vanilla
        );
        for r in Rule::ALL {
            let _ = writeln!(md, "| {} | {:.2}% |", r.as_str(), 100.0 * self.accuracy(r));
        }
        let _ = writeln!(md, "| oracle (pass@N) | {:.2}% |\n", 100.0 * self.oracle);
        md += "## Unit-test quality against ground truth\n\nFAR = FP/(FP+TP) and FRR = FN/(FN+TN) as the CodeRM paper defines them; FPR and FNR are the textbook rates.\n\n| classifier | Acc | F1 | FAR | FRR | FPR | FNR |\n|---|---|---|---|---|---|---|\n";
        for (name, j) in [
            ("each test", &self.test_quality.per_test),
            (
                "the CodeRM vote (top group)",
                &self.test_quality.vote_coderm,
            ),
        ] {
            let q = j.rates;
            let _ = writeln!(
                md,
                "| {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                q.acc, q.f1, q.far, q.frr, q.fpr, q.fnr
            );
        }
        for (title, points, file) in [
            (
                "tests per task (m)",
                &self.scaling_tests,
                "scaling_tests.svg",
            ),
            (
                "candidates per task (n)",
                &self.scaling_solutions,
                "scaling_solutions.svg",
            ),
        ] {
            let _ = writeln!(md, "\n## Accuracy against {title}\n\nMean over {} seeded bootstrap draws (seed {}), 95% interval in brackets.\n\n![{title}]({file})\n", self.bootstrap.repeats, self.bootstrap.seed);
            md += "| k |";
            for r in Rule::ALL {
                let _ = write!(md, " {} |", r.as_str());
            }
            md += "\n|---|";
            md += &"---|".repeat(Rule::ALL.len());
            md += "\n";
            for p in points {
                let _ = write!(md, "| {} |", p.k);
                for r in Rule::ALL {
                    if let Some(e) = p.by_rule.get(r.as_str()) {
                        let _ = write!(
                            md,
                            " {:.1} [{:.1}, {:.1}] |",
                            100.0 * e.mean,
                            100.0 * e.lo,
                            100.0 * e.hi
                        );
                    }
                }
                md += "\n";
            }
        }
        md += &self.cost_markdown();
        md += &self.difficulty_markdown();
        md
    }

    /// What each point of the test-scaling curve costs per problem, for a
    /// pool that recorded its calls.
    fn cost_markdown(&self) -> String {
        let Some(costs) = &self.scaling_tests_cost else {
            return String::new();
        };
        let mut md = String::from(
            "\n## What the tests cost\n\nPer problem, from what each call recorded: the policy's tokens plus k tests' share of the tester's, FLOPs (2 × parameters × tokens, when both sizes are known), and seconds for the policy's calls, k tests' share of the tester's calls and the sandbox running them against every distinct candidate, one after another.\n\n![accuracy vs compute](scaling_tests_cost.svg) ![accuracy vs latency](scaling_tests_latency.svg)\n\n| k | tokens | FLOPs | seconds | coderm | codet |\n|---|---|---|---|---|---|\n",
        );
        for (c, p) in costs.iter().zip(&self.scaling_tests) {
            let acc = |r: Rule| {
                p.by_rule
                    .get(r.as_str())
                    .map_or("n/a".to_string(), |e| format!("{:.1}%", 100.0 * e.mean))
            };
            let _ = writeln!(
                md,
                "| {} | {:.0} | {} | {:.2} | {} | {} |",
                c.k,
                c.tokens,
                c.flops.map_or("n/a".to_string(), |f| format!("{f:.3e}")),
                c.latency_s,
                acc(Rule::Coderm),
                acc(Rule::Codet)
            );
        }
        md
    }

    /// The difficulty table: per quintile, each vote's gain over vanilla
    /// (points of accuracy) at each number of tests per problem.
    fn difficulty_markdown(&self) -> String {
        let mut md = String::new();
        let Some(first) = self.difficulty.first() else {
            return md;
        };
        let _ = writeln!(
            md,
            "\n## Difficulty\n\nProblems in quintiles by the policy's pass rate, hardest first. A cell is the vote's accuracy minus vanilla's in the quintile, in points, at k tests per problem: mean over {} draws of the quintile's problems (with replacement) and of k tests each, 95% interval in brackets.\n",
            self.bootstrap.repeats
        );
        let ks: Vec<usize> = first
            .curves
            .first()
            .map(|(_, points)| points.iter().map(|p| p.k).collect())
            .unwrap_or_default();
        md += "| quintile | problems | pass rate | vanilla | oracle | rule |";
        for k in &ks {
            let _ = write!(md, " k={k} |");
        }
        md += "\n|---|---|---|---|---|---|";
        md += &"---|".repeat(ks.len());
        md += "\n";
        for b in &self.difficulty {
            for (rule, points) in &b.curves {
                let _ = write!(
                    md,
                    "| {} | {} | {:.2}–{:.2} | {:.1}% | {:.1}% | {rule} |",
                    b.band,
                    b.tasks,
                    b.pass_rate_lo,
                    b.pass_rate_hi,
                    100.0 * b.vanilla,
                    100.0 * b.oracle
                );
                for p in points {
                    let _ = write!(md, " {} |", gain_cell(&p.gain));
                }
                md += "\n";
            }
        }
        md
    }
}

/// A gain in points with its interval, `+3.5 [-0.7, +8.2]`: a cell of
/// the difficulty tables.
pub(crate) fn gain_cell(e: &Estimate) -> String {
    format!(
        "{:+.1} [{:+.1}, {:+.1}]",
        100.0 * e.mean,
        100.0 * e.lo,
        100.0 * e.hi
    )
}

/// One line of `selections.jsonl`: each rule's pick for one task.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    /// The task.
    pub task_id: String,
    /// Per rule: its pick.
    #[serde(flatten)]
    pub by_rule: BTreeMap<&'static str, Pick>,
}

/// One rule's pick for one task.
#[derive(Debug, Clone, Serialize)]
pub struct Pick {
    /// The first of the tied candidates (a row of the task's candidates).
    pub chosen: Option<usize>,
    /// Every candidate the rule picks from uniformly.
    pub tied: Vec<usize>,
    /// The mean ground-truth label over `tied`.
    pub expected_accuracy: f64,
}

/// Every rule's pick for every task.
pub fn selections(tasks: &[Task], ids: &[String]) -> Vec<Selection> {
    tasks
        .iter()
        .zip(ids)
        .map(|(t, id)| Selection {
            task_id: id.clone(),
            by_rule: Rule::ALL
                .iter()
                .map(|&r| {
                    let tied = r.select(&t.matrix);
                    (
                        r.as_str(),
                        Pick {
                            chosen: tied.first().copied(),
                            expected_accuracy: r.score(&t.matrix, &t.labels),
                            tied,
                        },
                    )
                })
                .collect(),
        })
        .collect()
}

/// Writes `rows` as JSON Lines to `path`.
pub(crate) fn write_jsonl<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let io = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    for r in rows {
        let line = serde_json::to_string(r).map_err(|e| io(std::io::Error::other(e)))?;
        writeln!(w, "{line}").map_err(io)?;
    }
    w.flush().map_err(io)
}

/// Serialises `value` as pretty JSON into `path`.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    write_file(path, text.as_bytes())
}

/// Writes report.json, report.md, the plots, selections.jsonl and
/// report.html into `dir`, from `executed`'s tasks and the pool they ran.
pub fn write(dir: &Path, title: &str, summary: &Summary, executed: &Executed) -> Result<()> {
    let (tasks, ids) = (&executed.tasks, &executed.ids);
    create_dir(dir)?;
    write_json(&dir.join("report.json"), summary)?;
    write_file(&dir.join("report.md"), summary.markdown().as_bytes())?;
    let tests_svg = draw(
        &dir.join("scaling_tests.svg"),
        "accuracy vs tests per task",
        "tests per task (m)",
        &summary.scaling_tests,
        summary,
    )?;
    let solutions_svg = draw(
        &dir.join("scaling_solutions.svg"),
        "accuracy vs candidates per task",
        "candidates per task (n)",
        &summary.scaling_solutions,
        summary,
    )?;
    let mut plots = vec![tests_svg, solutions_svg];
    if let Some(costs) = &summary.scaling_tests_cost {
        plots.extend(draw_costs(dir, costs, summary)?);
    }
    write_jsonl(&dir.join("selections.jsonl"), &selections(tasks, ids))?;
    html::write(dir, title, summary, tasks, &executed.pool.tasks, &plots)
}

/// One axis of a cost plot: the x of a costed point.
type CostAxis = dyn Fn(&cost_curve::CostAt) -> f64;

/// Draws `scaling_tests_cost.svg` (accuracy against FLOPs, or tokens,
/// per problem) and `scaling_tests_latency.svg` (against seconds per
/// problem) from the costed test-scaling curve.
fn draw_costs(dir: &Path, costs: &[cost_curve::CostAt], s: &Summary) -> Result<Vec<String>> {
    let flops = costs.iter().all(|c| c.flops.is_some());
    let compute = |c: &cost_curve::CostAt| c.flops.unwrap_or(c.tokens);
    let latency = |c: &cost_curve::CostAt| c.latency_s;
    let axes: [(&str, &str, &str, &CostAxis); 2] = [
        (
            "scaling_tests_cost.svg",
            "accuracy vs compute",
            if flops {
                "FLOPs per problem (policy + tester)"
            } else {
                "tokens per problem (policy + tester)"
            },
            &compute,
        ),
        (
            "scaling_tests_latency.svg",
            "accuracy vs latency",
            "seconds per problem (model calls + sandbox, one after another)",
            &latency,
        ),
    ];
    axes.into_iter()
        .map(|(file, title, xlabel, x)| {
            let xs: Vec<f64> = costs.iter().map(x).collect();
            draw_at(&dir.join(file), title, xlabel, &s.scaling_tests, &xs, s)
        })
        .collect()
}

fn draw(path: &Path, title: &str, xlabel: &str, points: &[Point], s: &Summary) -> Result<String> {
    let xs: Vec<f64> = points.iter().map(|p| p.k as f64).collect();
    draw_at(path, title, xlabel, points, &xs, s)
}

/// Each rule's accuracy at `points`, drawn at `xs` (aligned with them).
fn draw_at(
    path: &Path,
    title: &str,
    xlabel: &str,
    points: &[Point],
    xs: &[f64],
    s: &Summary,
) -> Result<String> {
    let curves = Rule::ALL
        .iter()
        .map(|rule| {
            let pts = points
                .iter()
                .zip(xs)
                .filter_map(|(p, &x)| p.by_rule.get(rule.as_str()).map(|e| (x, e.mean)))
                .collect();
            (rule.as_str().to_string(), pts)
        })
        .collect();
    let chart = Chart {
        title,
        xlabel,
        curves,
        lines: vec![("oracle", s.oracle), ("vanilla", s.vanilla)],
    };
    plot::draw(path, &chart)
}
