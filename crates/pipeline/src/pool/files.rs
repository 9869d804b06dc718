//! Pools read from JSONL files, each line checked the same way for every
//! command: a bad line is an error naming the file, the line and the field.
//!
//! Candidates, per line: `task_id` with `solution` (a whole program),
//! `completion` (a body continuing the problem's prompt), `response` (a
//! chat model's whole answer, the candidate cut out of it as `run` does),
//! or `samples` (CodeT's pools: raw completions, each continuing the
//! prompt).
//!
//! Tests, per line: `task_id` with `test` (a test as written, optionally
//! with its `format`), `generation` or `response` (a model's answer, in the
//! `style` it was asked for: `coderm` by default, or `codet`), or `samples`
//! (CodeT's pools: raw `assert` completions).
//!
//! Any line may carry `usage` — `prompt_tokens`, `completion_tokens` and
//! `latency_ms` of the call that wrote it, as `run` records them — and the
//! cost curves then use what was measured instead of a tokenizer's count;
//! a line of several `samples` shares it evenly.

use super::{Of, PoolBuilder, Recorded, TestGeneration};
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

/// A line's `usage`, if it has one.
fn usage(r: &Record<'_>) -> Result<Option<Recorded>, BenchError> {
    if !r.obj.contains_key("usage") {
        return Ok(None);
    }
    let Value::Object(u) = r.value("usage")? else {
        return Err(r.error("field `usage` must be an object with `prompt_tokens`, `completion_tokens` and `latency_ms`"));
    };
    let number = |name: &str| -> Result<f64, BenchError> {
        match u.get(name).and_then(Value::as_f64) {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
            Some(_) => Err(r.error(format!("field `usage.{name}` must be a number ≥ 0"))),
            None => Err(r.error(format!("field `usage.{name}` is missing or not a number"))),
        }
    };
    Ok(Some(Recorded {
        prompt_tokens: number("prompt_tokens")?,
        completion_tokens: number("completion_tokens")?,
        latency_ms: number("latency_ms")?,
    }))
}

/// `usage` shared by the `n` generations of one line.
fn shared(u: Option<Recorded>, n: usize) -> Option<Recorded> {
    u.map(|u| u.split(n))
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
        let recorded = usage(&r)?;
        // A whole answer is cut only where no program is given outright.
        let given = ["samples", "solution", "completion"]
            .iter()
            .any(|f| r.obj.contains_key(*f));
        if r.obj.contains_key("response") && !given {
            let text = r.str("response")?;
            let p = problem.as_ref().ok_or_else(|| {
                r.error(
                    "field `response`: cutting the candidate out needs the problem (pass --bench)",
                )
            })?;
            builder.candidate_text(position, p, &text);
            if let Some(u) = recorded {
                builder.record_usage(position, Of::Candidate, u);
            }
            return Ok(());
        }
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
        let each = shared(recorded, programs.len());
        for program in programs {
            builder.candidate_for(position, &task_id, problem.as_ref(), program);
            if let Some(u) = each {
                builder.record_usage(position, Of::Candidate, u);
            }
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
            "generation" | "response" => {
                let style = match r.opt_str("style")?.as_deref() {
                    None | Some("coderm") => TestStyle::Coderm,
                    Some("codet") => TestStyle::Codet,
                    Some(other) => {
                        return Err(r.error(format!(
                            "field `style`: {other:?} is neither \"coderm\" nor \"codet\""
                        )))
                    }
                };
                vec![TestGeneration::Text {
                    text: r.str(kind)?,
                    style,
                    raw: false,
                }]
            }
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
        let each = shared(usage(&r)?, generations.len());
        for g in generations {
            builder.tests_for(position, &task_id, problem.as_ref(), g);
            if let Some(u) = each {
                builder.record_usage(position, Of::Tests, u);
            }
        }
        Ok(())
    })?;
    Ok(())
}
