//! A reranking pool read from files: per task, the sampled candidates and
//! tests, with duplicates kept as multiplicities and everything discarded
//! counted by reason.

use anyhow::{Context, Result};
use codejury_bench::jsonl;
use codejury_bench::{sample_from_record, Dataset};
use codejury_core::extract::{
    coderm_unittest, codet_asserts, codet_pieces, cut_at_stop, Discards, Reject,
};
use codejury_core::{TestCase, TestFormat};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const WELL_FORMED: &str = include_str!("py/well_formed.py");

/// One task's pool.
#[derive(Debug, Default)]
pub struct TaskPool {
    /// Distinct candidate programs.
    pub programs: Vec<String>,
    /// For each sampled candidate (row), its index in `programs`.
    pub rows: Vec<usize>,
    /// Distinct tests.
    pub tests: Vec<TestCase>,
    /// For each sampled test (column), its index in `tests`.
    pub cols: Vec<usize>,
    /// Columns each test generation gave, in order (they sum to
    /// `cols.len()`): a line of a tests file, or one sample of a CodeT pool
    /// line. A generation that was discarded gave 0 and still counts, since
    /// budgets are spent in generations (model calls' samples), whatever
    /// they yield.
    pub generations: Vec<usize>,
}

/// The whole pool, by task position in the dataset.
#[derive(Debug, Default)]
pub struct Pool {
    /// Tasks with at least one candidate, keyed by dataset position.
    pub tasks: BTreeMap<usize, TaskPool>,
    /// Test generations discarded, by reason.
    pub discards: Discards,
    /// Exact duplicate tests dropped (plain test files) or counted by
    /// multiplicity (CodeT pools).
    pub duplicate_tests: usize,
}

pub(crate) fn intern<T: Eq + std::hash::Hash + Clone>(
    items: &mut Vec<T>,
    index: &mut HashMap<T, usize>,
    x: T,
) -> usize {
    *index.entry(x.clone()).or_insert_with(|| {
        items.push(x);
        items.len() - 1
    })
}

/// Reads candidates: sample lines (`solution`/`completion`) or CodeT pool
/// lines (`samples`: raw completions, cut at CodeT's stop sequences and
/// appended to the benchmark's prompt).
pub fn read_candidates(path: &Path, data: &Dataset, pool: &mut Pool) -> Result<()> {
    let mut index: HashMap<usize, HashMap<String, usize>> = HashMap::new();
    jsonl::for_each(path, |r| {
        let task_id = r.id("task_id")?;
        let task = data
            .position(&task_id)
            .ok_or_else(|| r.error(format!("task_id {task_id:?} is not in the benchmark")))?;
        let problem = &data.problems[task].problem;
        let programs: Vec<String> = if r.obj.contains_key("samples") {
            let samples = r.value("samples")?.as_array().cloned().unwrap_or_default();
            samples
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    s.as_str()
                        .map(|s| format!("{}{}", problem.prompt, cut_at_stop(s)))
                        .ok_or_else(|| {
                            r.error(format!("field `samples`: item {k} is not a string"))
                        })
                })
                .collect::<Result<_, _>>()?
        } else {
            let s = sample_from_record(&r)?;
            vec![problem
                .program(s.solution.as_deref(), s.completion.as_deref())
                .unwrap_or_default()]
        };
        let tp = pool.tasks.entry(task).or_default();
        for program in programs {
            let idx = intern(&mut tp.programs, index.entry(task).or_default(), program);
            tp.rows.push(idx);
        }
        Ok(())
    })?;
    Ok(())
}

/// What one test is in a CodeT pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestUnit {
    /// Each extracted `assert` (CodeT's own unit).
    Assert,
    /// All asserts kept from one sample, passing iff all pass (the unit the
    /// CodeRM evaluation gives a raw test generation).
    Sample,
}

/// Reads tests: plain lines (`test`, optional `format`; exact duplicates
/// dropped), CodeRM generations (`generation` or `response`: one fenced
/// `unittest` class), or CodeT pool lines (`samples`: raw `assert`
/// completions, split as CodeT does; duplicates counted by multiplicity).
pub fn read_tests(
    path: &Path,
    data: &Dataset,
    python: &Path,
    unit: TestUnit,
    pool: &mut Pool,
) -> Result<()> {
    let mut raw: Vec<(usize, usize, serde_json::Map<String, serde_json::Value>)> = Vec::new();
    jsonl::for_each(path, |r| {
        let task_id = r.id("task_id")?;
        let task = data
            .position(&task_id)
            .ok_or_else(|| r.error(format!("task_id {task_id:?} is not in the benchmark")))?;
        if !["test", "generation", "response", "samples"]
            .iter()
            .any(|f| r.obj.contains_key(*f))
        {
            return Err(r.error("needs a field `test`, `generation` (CodeRM-style text) or `samples` (CodeT-style completions)"));
        }
        raw.push((r.line, task, r.obj));
        Ok(())
    })?;
    // CodeT pieces are checked by Python's own parser, all in one call.
    let mut to_check: Vec<String> = Vec::new();
    for (_, task, obj) in &raw {
        let entry = &data.problems[*task].problem.entry_point;
        for s in obj
            .get("samples")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            to_check.extend(
                codet_pieces(s.as_str().unwrap_or(""), entry)
                    .into_iter()
                    .flatten(),
            );
        }
    }
    let valid: HashMap<String, bool> = if to_check.is_empty() {
        HashMap::new()
    } else {
        let verdicts = check_well_formed(python, &to_check)?;
        to_check.into_iter().zip(verdicts).collect()
    };
    let mut index: HashMap<usize, HashMap<TestCase, usize>> = HashMap::new();
    for (_, task, obj) in &raw {
        let entry = data.problems[*task].problem.entry_point.clone();
        let tp = pool.tasks.entry(*task).or_default();
        let idx = index.entry(*task).or_default();
        if let Some(samples) = obj.get("samples").and_then(|v| v.as_array()) {
            for sample in samples {
                let start = tp.cols.len();
                let text = sample.as_str().unwrap_or("");
                let well_formed = |p: &str| valid.get(p).copied().unwrap_or(false);
                let kept = codet_asserts(text, &entry, &well_formed, &mut pool.discards);
                let units = match unit {
                    TestUnit::Assert => kept,
                    TestUnit::Sample if kept.is_empty() => Vec::new(),
                    TestUnit::Sample => vec![kept.join("\n")],
                };
                for t in units {
                    let before = tp.tests.len();
                    let k = intern(&mut tp.tests, idx, TestCase::new(TestFormat::Assert, t));
                    if tp.tests.len() == before {
                        pool.duplicate_tests += 1;
                    }
                    tp.cols.push(k);
                }
                tp.generations.push(tp.cols.len() - start);
            }
            continue;
        }
        let case = if let Some(text) = obj
            .get("generation")
            .or_else(|| obj.get("response"))
            .and_then(|v| v.as_str())
        {
            match coderm_unittest(text, &entry) {
                Ok(code) => TestCase::new(TestFormat::Unittest, code),
                Err(why) => {
                    pool.discards.add(why);
                    tp.generations.push(0);
                    continue;
                }
            }
        } else {
            let code = obj
                .get("test")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            let format = obj
                .get("format")
                .and_then(|v| v.as_str())
                .and_then(|f| f.parse().ok())
                .unwrap_or_else(|| TestFormat::detect(&code));
            TestCase::new(format, code)
        };
        let before = tp.tests.len();
        let k = intern(&mut tp.tests, idx, case);
        if tp.tests.len() == before {
            pool.duplicate_tests += 1;
            pool.discards.add(Reject::Duplicate);
            tp.generations.push(0);
            continue;
        }
        tp.cols.push(k);
        tp.generations.push(1);
    }
    Ok(())
}

pub(crate) fn check_well_formed(python: &Path, snippets: &[String]) -> Result<Vec<bool>> {
    let mut child = Command::new(python)
        .args(["-S", "-c", WELL_FORMED])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", python.display()))?;
    let input = serde_json::to_vec(snippets)?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer panicked"))??;
    let v: Vec<bool> = serde_json::from_slice(&out.stdout).context("the syntax check failed")?;
    anyhow::ensure!(
        v.len() == snippets.len(),
        "the syntax check answered for {} of {} snippets",
        v.len(),
        snippets.len()
    );
    Ok(v)
}
