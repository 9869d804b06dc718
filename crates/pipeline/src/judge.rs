//! `judge` and `submit`: the two questions a service is asked one problem
//! at a time. `judge` runs a problem's candidates against its tests and
//! votes (the verdict matrix and each rule's pick); `submit` gives one
//! program's ground-truth verdict on a benchmark task (a reward). They are
//! what `codejury serve` answers on `/v1/judge` and `/v1/submit`, kept here
//! so every front end computes them the same way.

use crate::config::LimitSettings;
use crate::error::{config, Error, Result};
use crate::pool::{Duplicates, PoolBuilder, TestGeneration};
use crate::session::Sandbox;
use codejury_bench::{label, Benchmark, Dataset, LabelRequest};
use codejury_core::{PassMatrix, Rule, TestCase, Verdict};
use codejury_sandbox::{IsolationReport, PairOutcome, Runner, VerdictSink};
use codejury_store::{CachedRunner, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One test of a judge request: its code, with its format named or
/// detected (as in a tests file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TestInput {
    /// Just the code; the format is detected.
    Code(String),
    /// The code and, optionally, its format (`unittest`, `assert`, `check`).
    Spec {
        /// The test's code.
        code: String,
        /// Its format (`None`: detected).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
    },
}

/// One problem to judge.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeRequest {
    /// A name for the problem, echoed in errors.
    #[serde(default)]
    pub task_id: Option<String>,
    /// The function the tests call (needed by `check` tests).
    #[serde(default)]
    pub entry_point: Option<String>,
    /// Candidate programs, each whole.
    pub candidates: Vec<String>,
    /// Tests, each run against every candidate.
    pub tests: Vec<TestInput>,
    /// Limits per pair (default: 1 s of CPU, 1 GiB).
    #[serde(default)]
    pub limits: LimitSettings,
    /// Rules to vote with (default: every rule).
    #[serde(default)]
    pub rules: Option<Vec<Rule>>,
}

impl JudgeRequest {
    /// Pairs this request asks the sandbox for, before deduplication: what
    /// admission control counts.
    pub fn pairs(&self) -> usize {
        self.candidates.len().saturating_mul(self.tests.len())
    }
}

/// One (candidate, test) verdict.
#[derive(Debug, Clone, Serialize)]
pub struct PairVerdict {
    /// The candidate's position in the request.
    pub candidate: usize,
    /// The test's position in the request.
    pub test: usize,
    /// What happened.
    pub verdict: Verdict,
    /// Why it did not pass.
    pub message: String,
    /// CPU milliseconds.
    pub cpu_ms: f64,
    /// Wall milliseconds.
    pub wall_ms: f64,
    /// Whether the run store answered it.
    pub cached: bool,
}

/// A rule's pick: the candidates it picks from uniformly (one unless
/// tied).
#[derive(Debug, Clone, Serialize)]
pub struct RuleChoice {
    /// The first of the tied candidates: a deterministic pick.
    pub chosen: usize,
    /// Every candidate the rule ties at the top.
    pub tied: Vec<usize>,
}

/// The answer to a [`JudgeRequest`].
#[derive(Debug, Clone, Serialize)]
pub struct JudgeResult {
    /// `verdicts[i][j]`: candidate `i` on test `j`.
    pub verdicts: Vec<Vec<Verdict>>,
    /// Distinct tests each candidate passes.
    pub passed: Vec<usize>,
    /// Each rule's pick.
    pub rules: BTreeMap<Rule, RuleChoice>,
    /// Pairs in the matrix.
    pub pairs: usize,
    /// Distinct pairs run now.
    pub executed: usize,
    /// Distinct pairs the run store answered.
    pub cached: usize,
    /// The isolation layers the sandbox used.
    pub isolation: IsolationReport,
}

/// Judges one problem: runs every distinct (candidate, test) pair through
/// the store and the sandbox, hands each matrix cell to `each` as soon as
/// it is known (for streaming), and votes.
pub fn judge(
    sandbox: &Sandbox,
    store: &Store,
    req: &JudgeRequest,
    mut each: impl FnMut(&PairVerdict) -> Result<()>,
) -> Result<JudgeResult> {
    let language = sandbox.language();
    let name = req.task_id.clone().unwrap_or_else(|| "the problem".into());
    if req.candidates.is_empty() {
        return Err(config(format!("{name}: field `candidates`: empty")));
    }
    if req.tests.is_empty() {
        return Err(config(format!("{name}: field `tests`: empty")));
    }
    if req.limits.timeout_ms == 0 || req.limits.memory_mb == 0 {
        return Err(config(format!(
            "{name}: field `limits`: timeout_ms and memory_mb must be positive"
        )));
    }
    let problem = codejury_core::Problem {
        task_id: name.clone(),
        prompt: String::new(),
        entry_point: req.entry_point.clone().unwrap_or_default(),
        reference: None,
    };
    let with_problem = req.entry_point.as_ref().map(|_| &problem);
    let mut b = PoolBuilder::new(language, Default::default(), Duplicates::Keep);
    for (j, t) in req.tests.iter().enumerate() {
        let (code, format) = match t {
            TestInput::Code(c) => (c, None),
            TestInput::Spec { code, format } => (code, format.as_deref()),
        };
        if code.trim().is_empty() {
            return Err(config(format!("{name}: field `tests[{j}]`: empty code")));
        }
        let format = match format {
            Some(f) => language.parse_format(f).ok_or_else(|| {
                config(format!(
                    "{name}: field `tests[{j}].format`: {f:?} is not a {} test format",
                    language.name()
                ))
            })?,
            None => language.detect_format(code),
        };
        b.tests_for(
            0,
            &name,
            with_problem,
            TestGeneration::Plain(TestCase::new(format, code.clone())),
        );
    }
    for c in &req.candidates {
        b.candidate_for(0, &name, with_problem, c.clone());
    }
    let pool = b.finish()?;
    let tp = pool
        .tasks
        .into_iter()
        .next()
        .ok_or_else(|| config(format!("{name}: nothing to judge")))?;
    let n = tp.rows.len();
    let m = tp.cols.len();
    let rows_of = tp.rows_of_programs();
    let cols_of = tp.cols_of_tests();
    let jobs = tp.jobs(req.limits.limits());
    let runner = CachedRunner::new(sandbox.engine(), store);
    let mut sink = Cells {
        rows_of: &rows_of,
        cols_of: &cols_of,
        verdicts: vec![vec![Verdict::SandboxError; m]; n],
        filled: 0,
        executed: 0,
        cached: 0,
        each: &mut each,
    };
    runner.run_jobs(jobs, &mut sink)?;
    if sink.filled != n * m {
        return Err(Error::Config(format!(
            "{name}: the sandbox judged {} of {} pairs",
            sink.filled,
            n * m
        )));
    }
    let verdicts = sink.verdicts;
    let (executed, cached) = (sink.executed, sink.cached);
    let matrix = PassMatrix {
        pass: verdicts
            .iter()
            .map(|r| r.iter().map(|v| v.passed()).collect())
            .collect(),
        row_key: tp.rows.clone(),
        col_key: tp.cols.clone(),
    };
    let distinct = matrix.distinct_cols();
    let passed = matrix
        .pass
        .iter()
        .map(|r| distinct.iter().filter(|&&j| r[j]).count())
        .collect();
    let rules = req
        .rules
        .clone()
        .unwrap_or_else(|| Rule::ALL.to_vec())
        .into_iter()
        .map(|rule| {
            let tied = rule.select(&matrix);
            let chosen = tied.first().copied().unwrap_or(0);
            (rule, RuleChoice { chosen, tied })
        })
        .collect();
    Ok(JudgeResult {
        verdicts,
        passed,
        rules,
        pairs: n * m,
        executed,
        cached,
        isolation: sandbox.engine().isolation(),
    })
}

/// Fills the matrix as distinct pairs come back.
struct Cells<'a, F> {
    rows_of: &'a [Vec<usize>],
    cols_of: &'a [Vec<usize>],
    verdicts: Vec<Vec<Verdict>>,
    filled: usize,
    executed: usize,
    cached: usize,
    each: &'a mut F,
}

impl<F: FnMut(&PairVerdict) -> Result<()>> VerdictSink for Cells<'_, F> {
    type Error = Error;

    fn verdict(&mut self, o: PairOutcome) -> Result<bool> {
        if o.cached {
            self.cached += 1;
        } else {
            self.executed += 1;
        }
        for &row in &self.rows_of[o.job] {
            for &col in &self.cols_of[o.test] {
                self.verdicts[row][col] = o.verdict;
                self.filled += 1;
                (self.each)(&PairVerdict {
                    candidate: row,
                    test: col,
                    verdict: o.verdict,
                    message: o.message.clone(),
                    cpu_ms: (o.cpu_ms * 1000.0).round() / 1000.0,
                    wall_ms: (o.wall_ms * 1000.0).round() / 1000.0,
                    cached: o.cached,
                })?;
            }
        }
        Ok(true)
    }
}

/// One program to grade against a benchmark's ground truth.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The benchmark (`humaneval`, `humaneval-plus`, `mbpp-plus`).
    pub bench: String,
    /// The task.
    pub task_id: String,
    /// A body the task's prompt continues.
    #[serde(default)]
    pub completion: Option<String>,
    /// A whole program (instead of `completion`).
    #[serde(default)]
    pub solution: Option<String>,
}

/// A program's ground-truth verdict: 1.0 or 0.0 as a reward.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitResult {
    /// The task.
    pub task_id: String,
    /// Whether the program is correct.
    pub passed: bool,
    /// `passed` as a number.
    pub reward: f64,
    /// The verdict (the first that was not a pass).
    pub verdict: Verdict,
    /// Why it failed.
    pub message: String,
    /// CPU milliseconds spent.
    pub cpu_ms: f64,
    /// Wall milliseconds spent.
    pub wall_ms: f64,
    /// The isolation layers the sandbox used.
    pub isolation: IsolationReport,
}

/// Parses a submit request's benchmark name.
pub fn submit_bench(req: &SubmitRequest) -> Result<Benchmark> {
    req.bench
        .parse::<Benchmark>()
        .map_err(|e| config(format!("field `bench`: {e}")))
}

/// Grades one program of `data` (the benchmark `req` names) through the
/// store: a program graded before costs nothing, and a task's expected
/// outputs are computed once.
pub fn submit(
    sandbox: &Sandbox,
    store: &Store,
    data: &Dataset,
    req: &SubmitRequest,
) -> Result<SubmitResult> {
    let task = data.position(&req.task_id).ok_or_else(|| {
        config(format!(
            "field `task_id`: {} is not a task of {}",
            req.task_id, req.bench
        ))
    })?;
    let program = data.problems[task]
        .problem
        .program(req.solution.as_deref(), req.completion.as_deref())
        .ok_or_else(|| config("needs a field `completion` or `solution`"))?;
    let runner = CachedRunner::new(sandbox.engine(), store);
    let labels = label(&runner, data, &[LabelRequest { task, program }], |_| {})?;
    let l = labels
        .into_iter()
        .next()
        .ok_or_else(|| config(format!("{}: no label came back", req.task_id)))?;
    Ok(SubmitResult {
        task_id: req.task_id.clone(),
        passed: l.passed,
        reward: if l.passed { 1.0 } else { 0.0 },
        verdict: l.verdict,
        message: l.message,
        cpu_ms: l.cpu_ms,
        wall_ms: l.wall_ms,
        isolation: sandbox.engine().isolation(),
    })
}
