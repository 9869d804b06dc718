//! The evaluation report: numbers, scaling curves, test quality, written as
//! JSON, Markdown and SVG plots.

use crate::plot::Chart;
use crate::pool::Pool;
use anyhow::{Context, Result};
use codejury_core::metrics::{
    accuracy, bootstrap, oracle, per_test_quality, vanilla, vote_quality, Axis, Confusion,
    Estimate, Task,
};
use codejury_core::Rule;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// One point of a scaling curve.
pub struct Point {
    /// Tests (or candidates) per task.
    pub k: usize,
    /// Accuracy per rule.
    pub by_rule: Vec<(Rule, Estimate)>,
}

/// Everything the report says.
pub struct Report {
    tasks: usize,
    rows: usize,
    cols: usize,
    distinct_tests: usize,
    vanilla: f64,
    oracle: f64,
    rules: Vec<(Rule, f64)>,
    tests_curve: Vec<Point>,
    solutions_curve: Vec<Point>,
    per_test: Confusion,
    vote: Confusion,
    discards: Value,
    duplicate_tests: usize,
    repeats: usize,
    seed: u64,
}

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

impl Report {
    /// Computes the report.
    pub fn build(
        tasks: &[Task],
        _ids: &[String],
        pool: &Pool,
        repeats: usize,
        seed: u64,
    ) -> Report {
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
                        .map(|&r| (r, bootstrap(r, tasks, axis, k, repeats, seed)))
                        .collect(),
                })
                .collect()
        };
        Report {
            tasks: tasks.len(),
            rows: tasks.iter().map(|t| t.matrix.rows()).sum(),
            cols: tasks.iter().map(|t| t.matrix.cols()).sum(),
            distinct_tests: tasks.iter().map(|t| t.matrix.distinct_cols().len()).sum(),
            vanilla: vanilla(tasks),
            oracle: oracle(tasks),
            rules: Rule::ALL.iter().map(|&r| (r, accuracy(r, tasks))).collect(),
            tests_curve: curve(Axis::Tests, powers_up_to(max_tests)),
            solutions_curve: curve(Axis::Candidates, powers_up_to(max_rows)),
            per_test: per_test_quality(tasks),
            vote: vote_quality(Rule::Coderm, tasks),
            discards: serde_json::to_value(&pool.discards).unwrap_or(Value::Null),
            duplicate_tests: pool.duplicate_tests,
            repeats,
            seed,
        }
    }

    fn curve_json(points: &[Point]) -> Value {
        Value::Array(
            points
                .iter()
                .map(|p| {
                    let mut o = json!({ "k": p.k });
                    for (r, e) in &p.by_rule {
                        o[r.as_str()] = json!(e);
                    }
                    o
                })
                .collect(),
        )
    }

    /// The `--json` summary (also report.json).
    pub fn summary_json(&self) -> Value {
        let mut s = json!({
            "tasks": self.tasks,
            "solutions": self.rows,
            "tests": self.cols,
            "distinct_tests": self.distinct_tests,
            "vanilla": self.vanilla,
            "oracle": self.oracle,
            "discarded_tests": self.discards,
            "duplicate_tests": self.duplicate_tests,
            "test_quality": {
                "per_test": {"counts": self.per_test, "rates": self.per_test.quality()},
                "vote_coderm": {"counts": self.vote, "rates": self.vote.quality()},
            },
            "bootstrap": {"repeats": self.repeats, "seed": self.seed},
            "scaling_tests": Self::curve_json(&self.tests_curve),
            "scaling_solutions": Self::curve_json(&self.solutions_curve),
        });
        for (r, a) in &self.rules {
            s[r.as_str()] = json!(a);
        }
        s
    }

    /// The human table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{} tasks, {} candidates, {} tests ({} distinct)",
            self.tasks, self.rows, self.cols, self.distinct_tests
        );
        let _ = writeln!(t, "{:<22} {:>8}", "method", "accuracy");
        let _ = writeln!(
            t,
            "{:<22} {:>7.2}%",
            "vanilla (mean pass)",
            100.0 * self.vanilla
        );
        for (r, a) in &self.rules {
            let _ = writeln!(t, "{:<22} {:>7.2}%", r.as_str(), 100.0 * a);
        }
        let _ = writeln!(t, "{:<22} {:>7.2}%", "oracle (pass@N)", 100.0 * self.oracle);
        t
    }

    fn markdown(&self) -> String {
        let mut md = String::from("# codejury evaluation\n\n");
        let _ = writeln!(
            md,
            "{} tasks, {} candidates, {} tests ({} distinct); {} test generations discarded, {} duplicate tests.\n",
            self.tasks, self.rows, self.cols, self.distinct_tests,
            self.discards.as_object().map_or(0, |o| o.values().filter_map(Value::as_u64).sum::<u64>()),
            self.duplicate_tests
        );
        md += "| method | best-of-N accuracy |\n|---|---|\n";
        let _ = writeln!(
            md,
            "| vanilla (mean pass rate) | {:.2}% |",
            100.0 * self.vanilla
        );
        for (r, a) in &self.rules {
            let _ = writeln!(md, "| {} | {:.2}% |", r.as_str(), 100.0 * a);
        }
        let _ = writeln!(md, "| oracle (pass@N) | {:.2}% |\n", 100.0 * self.oracle);
        md += "## Unit-test quality against ground truth\n\nFAR = FP/(FP+TP) and FRR = FN/(FN+TN) as the CodeRM paper defines them; FPR and FNR are the textbook rates.\n\n| classifier | Acc | F1 | FAR | FRR | FPR | FNR |\n|---|---|---|---|---|---|---|\n";
        for (name, c) in [
            ("each test", &self.per_test),
            ("the CodeRM vote (top group)", &self.vote),
        ] {
            let q = c.quality();
            let _ = writeln!(
                md,
                "| {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                q.acc, q.f1, q.far, q.frr, q.fpr, q.fnr
            );
        }
        for (title, points, file) in [
            ("tests per task (m)", &self.tests_curve, "scaling_tests.svg"),
            (
                "candidates per task (n)",
                &self.solutions_curve,
                "scaling_solutions.svg",
            ),
        ] {
            let _ = writeln!(md, "\n## Accuracy against {title}\n\nMean over {} seeded bootstrap draws (seed {}), 95% interval in brackets.\n\n![{title}]({file})\n", self.repeats, self.seed);
            md += "| k |";
            for r in Rule::ALL {
                let _ = write!(md, " {} |", r.as_str());
            }
            md += "\n|---|";
            md += &"---|".repeat(Rule::ALL.len());
            md += "\n";
            for p in points.iter() {
                let _ = write!(md, "| {} |", p.k);
                for (_, e) in &p.by_rule {
                    let _ = write!(
                        md,
                        " {:.1} [{:.1}, {:.1}] |",
                        100.0 * e.mean,
                        100.0 * e.lo,
                        100.0 * e.hi
                    );
                }
                md += "\n";
            }
        }
        md
    }
}

/// Writes report.json, report.md, the plots and selections.jsonl into `dir`.
pub fn write(dir: &Path, rep: &Report, tasks: &[Task], ids: &[String]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let put = |name: &str, bytes: &[u8]| -> Result<()> {
        let p = dir.join(name);
        std::fs::write(&p, bytes).with_context(|| format!("cannot write {}", p.display()))
    };
    put(
        "report.json",
        serde_json::to_string_pretty(&rep.summary_json())?.as_bytes(),
    )?;
    put("report.md", rep.markdown().as_bytes())?;
    plot(
        &dir.join("scaling_tests.svg"),
        "accuracy vs tests per task",
        "tests per task (m)",
        &rep.tests_curve,
        rep,
    )?;
    plot(
        &dir.join("scaling_solutions.svg"),
        "accuracy vs candidates per task",
        "candidates per task (n)",
        &rep.solutions_curve,
        rep,
    )?;
    let path = dir.join("selections.jsonl");
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for (t, id) in tasks.iter().zip(ids) {
        let mut row = json!({"task_id": id});
        for r in Rule::ALL {
            let chosen = r.select(&t.matrix);
            row[r.as_str()] = json!({
                "chosen": chosen.first(),
                "tied": chosen,
                "expected_accuracy": r.score(&t.matrix, &t.labels),
            });
        }
        writeln!(w, "{row}")?;
    }
    w.flush()?;
    Ok(())
}

fn plot(path: &Path, title: &str, xlabel: &str, points: &[Point], rep: &Report) -> Result<()> {
    let curves = Rule::ALL
        .iter()
        .map(|rule| {
            let pts = points
                .iter()
                .filter_map(|p| {
                    p.by_rule
                        .iter()
                        .find(|(r, _)| r == rule)
                        .map(|(_, e)| (p.k as f64, e.mean))
                })
                .collect();
            (rule.as_str().to_string(), pts)
        })
        .collect();
    let chart = Chart {
        title,
        xlabel,
        curves,
        lines: vec![("oracle", rep.oracle), ("vanilla", rep.vanilla)],
    };
    crate::plot::draw(path, &chart)
}
