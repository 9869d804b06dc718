//! Pools read from JSONL files, each line checked the same way for every
//! command: a bad line is an error naming the file, the line and the field.
//!
//! Candidates, per line: `task_id` with `solution` (a whole program) or
//! `completion` (a body continuing the problem's prompt), or with `samples`
//! (CodeT's pools: raw completions, each continuing the prompt).
//!
//! Tests, per line: `task_id` with `test` (a test as written, optionally
//! with its `format`), `generation` or `response` (a CodeRM-style model
//! answer), or `samples` (CodeT's pools: raw `assert` completions).

use super::{PoolBuilder, TestGeneration};
use crate::error::Result;
use codejury_bench::jsonl::{self, Record};
use codejury_bench::{sample_from_record, BenchError, Dataset};
use codejury_core::prompt::TestStyle;
use codejury_core::{Problem, TestCase, TestFormat};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Where the tasks of a file are: a benchmark's problems, or (for `exec`
/// without one) task ids numbered as they first appear.
pub enum Tasks<'a> {
    /// Every `task_id` must be one of the benchmark's.
    Dataset(&'a Dataset),
    /// Any `task_id`; tasks have no problem.
    Free(HashMap<String, usize>),
}

impl Tasks<'_> {
    /// The position and problem of a line's task.
    fn locate(&mut self, r: &Record<'_>) -> Result<(usize, String, Option<Problem>), BenchError> {
        let task_id = r.id("task_id")?;
        match self {
            Tasks::Dataset(data) => {
                let position = data
                    .position(&task_id)
                    .ok_or_else(|| BenchError::UnknownTask {
                        path: r.path().to_path_buf(),
                        line: r.line,
                        task_id: task_id.clone(),
                    })?;
                Ok((
                    position,
                    task_id,
                    Some(data.problems[position].problem.clone()),
                ))
            }
            Tasks::Free(seen) => {
                let next = seen.len();
                let position = *seen.entry(task_id.clone()).or_insert(next);
                Ok((position, task_id, None))
            }
        }
    }
}

/// An array-of-strings field.
fn strings(r: &Record<'_>, field: &str) -> Result<Vec<String>, BenchError> {
    let Value::Array(items) = r.value(field)? else {
        return Err(r.error(format!("field `{field}` must be an array of strings")));
    };
    items
        .iter()
        .enumerate()
        .map(|(k, s)| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| r.error(format!("field `{field}`: item {k} is not a string")))
        })
        .collect()
}

/// Reads candidates into `builder`.
pub fn read_candidates(
    path: &Path,
    tasks: &mut Tasks<'_>,
    builder: &mut PoolBuilder<'_>,
) -> Result<()> {
    let language = builder.language();
    jsonl::for_each(path, |r| {
        let (position, task_id, problem) = tasks.locate(&r)?;
        let programs: Vec<String> = if r.obj.contains_key("samples") {
            let p = problem.as_ref().ok_or_else(|| {
                r.error("field `samples`: CodeT completions need the problem's prompt (pass --bench or --problems)")
            })?;
            strings(&r, "samples")?
                .iter()
                .map(|s| language.continuation(p, s))
                .collect()
        } else {
            let s = sample_from_record(&r)?;
            match (&s.solution, &s.completion, &problem) {
                (Some(solution), _, _) => vec![solution.clone()],
                (None, Some(c), Some(p)) => vec![format!("{}{c}", p.prompt)],
                (None, Some(_), None) => {
                    return Err(r.error(
                        "field `completion` needs the problem's prompt: pass --problems or --bench",
                    ))
                }
                (None, None, _) => unreachable!("sample_from_record requires one of them"),
            }
        };
        for program in programs {
            builder.candidate_for(position, &task_id, problem.as_ref(), program);
        }
        Ok(())
    })?;
    Ok(())
}

/// Which kinds of test line a command takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestLines {
    /// Plain tests, CodeRM generations and CodeT pools (`eval`, `scale`).
    Any,
    /// Plain tests only, each a column of the verdict file (`exec`).
    Plain,
}

/// Reads tests into `builder`. `forced` overrides every line's format.
pub fn read_tests(
    path: &Path,
    tasks: &mut Tasks<'_>,
    builder: &mut PoolBuilder<'_>,
    kinds: TestLines,
    forced: Option<&TestFormat>,
) -> Result<()> {
    let language = builder.language();
    jsonl::for_each(path, |r| {
        let (position, task_id, problem) = tasks.locate(&r)?;
        let found = ["samples", "generation", "response", "test"]
            .into_iter()
            .find(|f| r.obj.contains_key(*f));
        let kind = match (found, kinds) {
            (Some(kind), _) => kind,
            // Where only plain tests are taken, the field they need is named.
            (None, TestLines::Plain) => "test",
            (None, TestLines::Any) => {
                return Err(r.error("needs a field `test`, `generation` (CodeRM-style text) or `samples` (CodeT-style completions)"))
            }
        };
        if kinds == TestLines::Plain && kind != "test" {
            return Err(r.error(format!(
                "field `{kind}`: this command runs tests as written; give each as a field `test`"
            )));
        }
        let generations: Vec<TestGeneration> = match kind {
            "samples" => {
                if problem.is_none() {
                    return Err(r.error("field `samples`: CodeT completions need the problem's entry point (pass --bench)"));
                }
                strings(&r, "samples")?
                    .into_iter()
                    .map(|text| TestGeneration::Text {
                        text,
                        style: TestStyle::Codet,
                        raw: true,
                    })
                    .collect()
            }
            "generation" | "response" => vec![TestGeneration::Text {
                text: r.str(kind)?,
                style: TestStyle::Coderm,
                raw: false,
            }],
            _ => {
                let code = r.str("test")?;
                if code.trim().is_empty() {
                    return Err(r.error("field `test` is empty"));
                }
                let format = match (forced, r.opt_str("format")?) {
                    (Some(f), _) => f.clone(),
                    (None, Some(name)) => language.parse_format(&name).ok_or_else(|| {
                        r.error(format!(
                            "field `format`: {name:?} is not a {} test format",
                            language.name()
                        ))
                    })?,
                    (None, None) => language.detect_format(&code),
                };
                vec![TestGeneration::Plain(TestCase::new(format, code))]
            }
        };
        for g in generations {
            builder.tests_for(position, &task_id, problem.as_ref(), g);
        }
        Ok(())
    })?;
    Ok(())
}
