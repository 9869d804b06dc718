//! `select`: the candidate a rule picks per task, from `exec` verdicts — no
//! ground truth needed.

use crate::error::Result;
use codejury_bench::jsonl;
use codejury_core::{PassMatrix, Rule, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One task's pick.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// The task.
    pub task_id: String,
    /// The rule.
    pub rule: Rule,
    /// The first of the tied solutions (its `solution_index`).
    pub chosen: Option<u64>,
    /// Every solution the rule picks from uniformly.
    pub tied: Vec<u64>,
}

/// The picks of `rule` for every task of a verdict file (as `exec` writes
/// them); a bad line is an error naming file, line and field.
pub fn select(verdicts: &Path, rule: Rule) -> Result<Vec<Choice>> {
    // task -> solution -> test -> passed
    let mut cells: BTreeMap<String, BTreeMap<u64, BTreeMap<u64, bool>>> = BTreeMap::new();
    jsonl::for_each(verdicts, |r| {
        let task = r.id("task_id")?;
        let index = |field: &str| -> std::result::Result<u64, codejury_bench::BenchError> {
            let x = r.f64(field)?;
            if x < 0.0 || x.fract() != 0.0 {
                return Err(r.error(format!("field `{field}` must be a non-negative integer")));
            }
            Ok(x as u64)
        };
        let sol = index("solution_index")?;
        let test = index("test_index")?;
        let verdict: Verdict = r
            .str("verdict")?
            .parse()
            .map_err(|e| r.error(format!("field `verdict`: {e}")))?;
        cells
            .entry(task)
            .or_default()
            .entry(sol)
            .or_default()
            .insert(test, verdict.passed());
        Ok(())
    })?;
    let mut rows = Vec::new();
    for (task, sols) in &cells {
        let mut tests: Vec<u64> = sols.values().flat_map(|m| m.keys().copied()).collect();
        tests.sort_unstable();
        tests.dedup();
        let ids: Vec<u64> = sols.keys().copied().collect();
        let pass = sols
            .values()
            .map(|m| {
                tests
                    .iter()
                    .map(|t| m.get(t).copied().unwrap_or(false))
                    .collect()
            })
            .collect();
        let tied: Vec<u64> = rule
            .select(&PassMatrix::distinct(pass))
            .into_iter()
            .map(|i| ids[i])
            .collect();
        rows.push(Choice {
            task_id: task.clone(),
            rule,
            chosen: tied.first().copied(),
            tied,
        });
    }
    Ok(rows)
}
