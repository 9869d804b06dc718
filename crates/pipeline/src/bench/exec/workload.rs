//! The workloads `bench exec` runs: real programs and real tests, built
//! from the benchmark data, each a list of engine jobs.

use super::{baseline_error, ExecBenchConfig, Workload};
use crate::bench::{data_file, samples_path};
use crate::error::{config, Result};
use codejury_bench::{jsonl, read_samples, Benchmark, Dataset, GroundTruth};
use codejury_core::{TestCase, Verdict};
use codejury_python::formats::{ASSERT, UNITTEST};
use codejury_sandbox::{sinks, Engine, Job, Limits, SandboxError};
use std::collections::HashMap;

const BENCH_TESTS: &str = include_str!("../py/bench_tests.py");

/// Programs and their tests, ready for the engine.
pub(super) struct Built {
    /// One job per program, every test of its task.
    pub(super) jobs: Vec<Job>,
    /// What the workload is, in words.
    pub(super) description: String,
}

/// The 5-model samples, each a whole program for its task of `data`.
fn programs(args: &ExecBenchConfig, data: &Dataset) -> Result<Vec<(usize, String)>> {
    let path = samples_path(&args.samples)?;
    let mut out = Vec::new();
    for s in read_samples(&path)? {
        let Some(task) = data.position(&s.task_id) else {
            return Err(config(format!(
                "{}:{}: field `task_id`: {} is not a HumanEval task",
                path.display(),
                s.line,
                s.task_id
            )));
        };
        let program = data.problems[task]
            .problem
            .program(s.solution.as_deref(), s.completion.as_deref())
            .ok_or_else(|| {
                config(format!(
                    "{}:{}: needs a field `solution` or `completion`",
                    path.display(),
                    s.line
                ))
            })?;
        if in_scope(args, task) {
            out.push((task, program));
        }
    }
    Ok(out)
}

/// Whether task `task` (its position in the benchmark) is in the run.
fn in_scope(args: &ExecBenchConfig, task: usize) -> bool {
    args.tasks.is_none_or(|k| task < k)
}

/// Builds the chosen workload; `engine` runs the canonical solutions where
/// expected outputs are needed.
pub(super) fn build(args: &ExecBenchConfig, limits: Limits, engine: &Engine) -> Result<Built> {
    match args.workload {
        Workload::Coderm => coderm(args, limits),
        Workload::Evalplus => evalplus(args, limits, engine),
    }
}

/// One task of the CodeRM workload: its samples and its tests.
pub struct CodermTask {
    /// The task.
    pub task_id: String,
    /// The function the tests call.
    pub entry_point: String,
    /// The 5-model samples of the task, each a whole program.
    pub programs: Vec<String>,
    /// The task's GPT-4 asserts, each as a one-method unittest class.
    pub tests: Vec<TestCase>,
    /// The same asserts as written.
    pub asserts: Vec<String>,
}

/// The GPT-4 asserts of each task of `data`, as written.
fn gpt4_asserts(args: &ExecBenchConfig, data: &Dataset) -> Result<HashMap<usize, Vec<String>>> {
    let path = data_file(&args.tests, "samples/humaneval-gpt4-tests.jsonl", "--tests")?;
    let mut tests: HashMap<usize, Vec<String>> = HashMap::new();
    jsonl::for_each(&path, |r| {
        let task_id = r.id("task_id")?;
        let Some(task) = data.position(&task_id) else {
            return Err(r.error(format!(
                "field `task_id`: {task_id} is not a HumanEval task"
            )));
        };
        tests.entry(task).or_default().push(r.str("test")?);
        Ok(())
    })?;
    Ok(tests)
}

/// The GPT-4 asserts of each task of `data`, each as a unittest class.
fn gpt4_tests(args: &ExecBenchConfig, data: &Dataset) -> Result<HashMap<usize, Vec<TestCase>>> {
    Ok(gpt4_asserts(args, data)?
        .into_iter()
        .map(|(task, asserts)| {
            let tests = asserts
                .iter()
                .map(|a| TestCase::new(UNITTEST, as_unittest(a)))
                .collect();
            (task, tests)
        })
        .collect())
}

/// The CodeRM workload task by task, in the order tasks first appear in
/// the samples file.
pub fn coderm_tasks(args: &ExecBenchConfig) -> Result<Vec<CodermTask>> {
    let data = Dataset::load(Benchmark::HumanEval, args.humaneval.as_deref())?;
    let asserts = gpt4_asserts(args, &data)?;
    let mut out: Vec<CodermTask> = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::new();
    for (task, program) in programs(args, &data)? {
        let k = *index.entry(task).or_insert_with(|| {
            let p = &data.problems[task].problem;
            out.push(CodermTask {
                task_id: p.task_id.clone(),
                entry_point: p.entry_point.clone(),
                programs: Vec::new(),
                tests: asserts
                    .get(&task)
                    .into_iter()
                    .flatten()
                    .map(|a| TestCase::new(UNITTEST, as_unittest(a)))
                    .collect(),
                asserts: asserts.get(&task).cloned().unwrap_or_default(),
            });
            out.len() - 1
        });
        out[k].programs.push(program);
    }
    Ok(out)
}

/// The CodeRM paper's setting: each 5-model sample (in file order)
/// against its task's GPT-4-written asserts, each assert wrapped as a
/// one-method `unittest.TestCase` class (the layout CodeRM's tests have).
fn coderm(args: &ExecBenchConfig, limits: Limits) -> Result<Built> {
    let data = Dataset::load(Benchmark::HumanEval, args.humaneval.as_deref())?;
    let tests = gpt4_tests(args, &data)?;
    let jobs: Vec<Job> = programs(args, &data)?
        .into_iter()
        .map(|(task, candidate)| Job {
            candidate,
            entry_point: Some(data.problems[task].problem.entry_point.clone()),
            prelude: None,
            tests: tests.get(&task).cloned().unwrap_or_default(),
            limits,
        })
        .collect();
    Ok(Built {
        description: format!(
            "CodeRM's setting: {} 5-model HumanEval samples x their task's GPT-4 asserts as unittest classes",
            jobs.len()
        ),
        jobs,
    })
}

/// One assert as a one-method `unittest.TestCase` class.
fn as_unittest(assert: &str) -> String {
    let body: String = assert.lines().map(|l| format!("        {l}\n")).collect();
    format!("import unittest\n\n\nclass TestGenerated(unittest.TestCase):\n    def test_case(self):\n{body}")
}

/// HumanEval+ canonical solutions and the 5-model samples, each against its
/// task's HumanEval+ base inputs turned into single `assert f(*args) ==
/// expected` tests (expected from the canonical solution, run here in the
/// sandbox): many small tests, no time-outs; per-pair overhead decides.
fn evalplus(args: &ExecBenchConfig, limits: Limits, engine: &Engine) -> Result<Built> {
    let data = Dataset::load(Benchmark::HumanEvalPlus, args.humaneval_plus.as_deref())?;
    let mut prep = Vec::new();
    let mut prep_task = Vec::new();
    for (task, bp) in data.problems.iter().enumerate() {
        if !in_scope(args, task) {
            continue;
        }
        let GroundTruth::EvalPlus { base_input, .. } = &bp.truth else {
            continue;
        };
        let spec = serde_json::json!({"entry_point": bp.problem.entry_point, "inputs": base_input})
            .to_string();
        prep.push(Job {
            candidate: bp.canonical.clone().unwrap_or_default(),
            entry_point: Some(bp.problem.entry_point.clone()),
            prelude: None,
            tests: vec![TestCase {
                format: ASSERT,
                code: BENCH_TESTS.into(),
                data: Some(spec),
            }],
            limits: Limits::default().with_time_ms(60_000),
        });
        prep_task.push(task);
    }
    let mut tests: Vec<Option<Vec<String>>> = vec![None; data.problems.len()];
    let mut failed = Vec::new();
    engine.run(
        prep,
        &mut sinks::from_fn(|o: codejury_sandbox::PairOutcome| {
            let task = prep_task[o.job];
            match (o.verdict, o.value) {
                (Verdict::Pass, Some(v)) => match serde_json::from_str(&v) {
                    Ok(list) => tests[task] = Some(list),
                    Err(e) => failed.push(format!("{}: {e}", data.problems[task].problem.task_id)),
                },
                (v, _) => failed.push(format!(
                    "{}: {v}: {}",
                    data.problems[task].problem.task_id, o.message
                )),
            }
            Ok::<_, SandboxError>(true)
        }),
    )?;
    if let Some(first) = failed.first() {
        return Err(baseline_error(format!(
            "building the tests from {} canonical solutions failed for {} of them, first {first}",
            prep_task.len(),
            failed.len()
        )));
    }
    let mut jobs = Vec::new();
    let mut programs_in: Vec<(usize, String)> = data
        .problems
        .iter()
        .enumerate()
        .filter(|&(i, _)| in_scope(args, i))
        .map(|(i, bp)| (i, bp.canonical.clone().unwrap_or_default()))
        .collect();
    programs_in.extend(programs(args, &data)?);
    for (task, candidate) in programs_in {
        jobs.push(Job {
            candidate,
            entry_point: Some(data.problems[task].problem.entry_point.clone()),
            prelude: None,
            tests: tests[task]
                .iter()
                .flatten()
                .map(|t| TestCase::new(ASSERT, t.clone()))
                .collect(),
            limits,
        });
    }
    Ok(Built {
        description: format!(
            "{} programs (HumanEval+ canonical solutions and the 5-model samples) x HumanEval+ base inputs as asserts",
            jobs.len()
        ),
        jobs,
    })
}

#[cfg(test)]
mod tests {
    use super::as_unittest;

    #[test]
    fn an_assert_becomes_a_one_method_test_case_with_every_line_indented() {
        assert_eq!(
            as_unittest("assert f(1) == 2\nassert f(2) == 3"),
            "import unittest\n\n\nclass TestGenerated(unittest.TestCase):\n    def test_case(self):\n        assert f(1) == 2\n        assert f(2) == 3\n"
        );
    }
}
