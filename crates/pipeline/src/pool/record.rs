//! A `run`'s generations written back as pool files: `solutions.jsonl`
//! (each policy answer whole, as `response`) and `tests.jsonl` (each
//! tester answer, as `generation` with its `style`), every line with the
//! `usage` its call recorded. `eval`, `scale` and `study` read them like
//! any pool — the candidates and tests are cut out the same way, so the
//! matrices are the run's — and cost their curves from what was measured
//! (tokens and latency) instead of a tokenizer's count.

use super::Recorded;
use crate::error::Result;
use crate::report::write_jsonl;
use codejury_core::prompt::TestStyle;
use codejury_store::Usage;
use serde::Serialize;
use std::path::Path;

/// One line of `solutions.jsonl`.
#[derive(Serialize)]
struct CandidateLine<'a> {
    task_id: &'a str,
    response: &'a str,
    usage: Recorded,
}

/// One line of `tests.jsonl`.
#[derive(Serialize)]
struct TestLine<'a> {
    task_id: &'a str,
    generation: &'a str,
    style: TestStyle,
    usage: Recorded,
}

/// One stage's generations: per problem, its task id, texts and the
/// summed usage of the calls that wrote them.
pub struct StageTexts<'a> {
    /// Task ids, one per problem.
    pub task_ids: &'a [String],
    /// Per problem, the texts.
    pub texts: &'a [Vec<String>],
    /// Per problem, the calls' usage summed (shared evenly by its texts).
    pub usage: &'a [Usage],
}

impl<'a> StageTexts<'a> {
    fn lines<T>(&self, mut line: impl FnMut(&'a str, &'a str, Recorded) -> T) -> Vec<T> {
        let mut out = Vec::new();
        for ((id, texts), usage) in self.task_ids.iter().zip(self.texts).zip(self.usage) {
            let share = Recorded::share(usage, texts.len());
            out.extend(texts.iter().map(|t| line(id, t, share)));
        }
        out
    }
}

/// Writes `dir/solutions.jsonl` and `dir/tests.jsonl`.
pub fn write<'a>(
    dir: &Path,
    candidates: &StageTexts<'a>,
    tests: &StageTexts<'a>,
    style: TestStyle,
) -> Result<()> {
    let c = candidates.lines(|task_id, response, usage| CandidateLine {
        task_id,
        response,
        usage,
    });
    write_jsonl(&dir.join("solutions.jsonl"), &c)?;
    let t = tests.lines(|task_id, generation, usage| TestLine {
        task_id,
        generation,
        style,
        usage,
    });
    write_jsonl(&dir.join("tests.jsonl"), &t)
}
