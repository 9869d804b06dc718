//! `report.html`: the whole report as one self-contained page — the plots,
//! a table of problems that sorts by difficulty and outcome, and for each
//! problem its verdict matrix as a heatmap with the pick outlined and the
//! ground truth beside it, the picked program and the tests that decided it.
//!
//! The page needs no network: the plots are inlined SVG, the numbers are a
//! JSON island the page's own script renders, and the script and styles are
//! inline. It reads `report.json`'s numbers from that island, so what the
//! page shows and what `report.json` says cannot drift apart; a headless
//! browser test checks that.

use super::Summary;
use crate::error::{write_file, Error, Result};
use crate::pool::TaskPool;
use codejury_core::metrics::Task;
use codejury_core::Rule;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The page's shell: styles, layout and the script that renders the data.
const TEMPLATE: &str = include_str!("report.html");

/// At most this many deciding tests are listed per problem and rule; the
/// count says how many there were.
const DECIDING_SHOWN: usize = 8;

/// One problem as the page draws it.
#[derive(Debug, Serialize)]
struct ProblemView<'a> {
    task_id: &'a str,
    /// The policy's pass rate: the share of correct candidates.
    pass_rate: f64,
    /// Ground truth per row.
    correct: &'a [bool],
    /// One string of `1`/`0` per row over the distinct tests (`tests`).
    matrix: Vec<String>,
    /// Per rule: the rows it picks from, its expected accuracy, and the
    /// tests that decided it.
    picks: BTreeMap<&'static str, PickView>,
    /// Index into the page's program table for each row.
    programs: Vec<usize>,
    /// The distinct tests' code, in matrix column order.
    tests: Vec<&'a str>,
}

/// One rule's pick on one problem.
#[derive(Debug, Serialize)]
struct PickView {
    tied: Vec<usize>,
    expected_accuracy: f64,
    /// Columns the pick passes and some candidate outside it fails: the
    /// tests that told the pick apart (at most [`DECIDING_SHOWN`]).
    deciding: Vec<usize>,
    /// How many such columns there are.
    deciding_total: usize,
}

/// Everything the page's script renders.
#[derive(Debug, Serialize)]
struct PageData<'a> {
    title: &'a str,
    report: &'a Summary,
    rules: Vec<&'static str>,
    problems: Vec<ProblemView<'a>>,
    /// Program texts the picks point at (others are left out to keep the
    /// page small); `null` for a program no rule picks.
    program_text: Vec<Option<&'a str>>,
}

fn pick(rule: Rule, task: &Task, cols: &[usize]) -> PickView {
    let tied = rule.select(&task.matrix);
    let inside: Vec<bool> = (0..task.matrix.rows()).map(|r| tied.contains(&r)).collect();
    let deciding: Vec<usize> = match tied.first() {
        None => Vec::new(),
        Some(&first) => cols
            .iter()
            .enumerate()
            .filter(|&(_, &c)| {
                task.matrix.pass[first][c]
                    && (0..task.matrix.rows()).any(|r| !inside[r] && !task.matrix.pass[r][c])
            })
            .map(|(k, _)| k)
            .collect(),
    };
    PickView {
        expected_accuracy: rule.score(&task.matrix, &task.labels),
        deciding_total: deciding.len(),
        deciding: deciding.into_iter().take(DECIDING_SHOWN).collect(),
        tied,
    }
}

/// Writes `report.html` into `dir` from the report, the executed tasks and
/// the pool they came from (aligned with `tasks`), inlining the SVG plots.
pub fn write(
    dir: &Path,
    title: &str,
    summary: &Summary,
    tasks: &[Task],
    pools: &[TaskPool],
    plots: &[String],
) -> Result<()> {
    let mut program_text: Vec<Option<&str>> = Vec::new();
    let mut problems = Vec::with_capacity(tasks.len());
    for (task, tp) in tasks.iter().zip(pools) {
        let cols = task.matrix.distinct_cols();
        let matrix = task
            .matrix
            .pass
            .iter()
            .map(|row| {
                cols.iter()
                    .map(|&c| if row[c] { '1' } else { '0' })
                    .collect()
            })
            .collect();
        let picks: BTreeMap<&'static str, PickView> = Rule::ALL
            .iter()
            .map(|&r| (r.as_str(), pick(r, task, &cols)))
            .collect();
        let base = program_text.len();
        program_text.extend(tp.programs.iter().map(|_| None));
        for p in picks.values() {
            for &row in &p.tied {
                if let Some(&prog) = tp.rows.get(row) {
                    program_text[base + prog] = tp.programs.get(prog).map(String::as_str);
                }
            }
        }
        problems.push(ProblemView {
            task_id: &tp.task_id,
            pass_rate: codejury_core::metrics::vanilla(std::slice::from_ref(task)),
            correct: &task.labels,
            matrix,
            picks,
            programs: tp.rows.iter().map(|&p| base + p).collect(),
            tests: cols
                .iter()
                .map(|&c| {
                    tp.cols
                        .get(c)
                        .and_then(|&t| tp.tests.get(t))
                        .map_or("", |t| t.code.as_str())
                })
                .collect(),
        });
    }
    let data = PageData {
        title,
        report: summary,
        rules: Rule::ALL.iter().map(|r| r.as_str()).collect(),
        problems,
        program_text,
    };
    let path = dir.join("report.html");
    let json = serde_json::to_string(&data).map_err(|e| Error::Write {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    let mut svgs = String::new();
    for svg in plots {
        let start = svg.find("<svg").unwrap_or(0);
        svgs.push_str("<figure>");
        svgs.push_str(&svg[start..]);
        svgs.push_str("</figure>\n");
    }
    let page = TEMPLATE
        .replace("{{TITLE}}", &escape(title))
        .replace("{{PLOTS}}", &svgs)
        .replace("{{DATA}}", &island(&json));
    write_file(&path, page.as_bytes())
}

/// JSON made safe inside `<script>`: outside strings JSON has no `<`, and
/// inside them `\u003c` is the same character, so no `</script>` or `<!--`
/// in a program's text can end the island early.
fn island(json: &str) -> String {
    json.replace('<', "\\u003c")
}

/// Text made safe as HTML element content.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn island_cannot_close_the_script() {
        let json = serde_json::to_string("</script><!-- x").unwrap();
        let safe = island(&json);
        assert!(!safe.contains('<'));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><!-- x");
    }
}
