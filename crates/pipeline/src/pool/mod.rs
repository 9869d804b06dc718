//! The pool: per problem, the sampled candidates and tests, with
//! duplicates kept as multiplicities and everything discarded counted by
//! reason.
//!
//! One [`PoolBuilder`] makes every pool — from files (`eval`, `scale`,
//! `exec`, see [`files`]) and from model generations (`run`) — so a test
//! is kept, screened and deduplicated the same way whatever it came from.
//! Test pieces are screened by the language's own parser in one batch when
//! the pool is finished: a piece it cannot take apart is discarded with a
//! counted reason, and never stops the run.
//!
//! ```no_run
//! use codejury_core::prompt::TestStyle;
//! use codejury_pipeline::config::TestUnit;
//! use codejury_pipeline::pool::{Duplicates, PoolBuilder, TestGeneration};
//! # fn demo(python: &dyn codejury_core::Language, problem: &codejury_core::Problem) -> codejury_pipeline::Result<()> {
//! let mut b = PoolBuilder::new(python, TestUnit::Assert, Duplicates::Drop);
//! b.candidate(0, problem, "def add(a, b):\n    return a + b\n".into());
//! b.tests(0, problem, TestGeneration::Text {
//!     text: "add(1, 2) == 3\nassert add(2, 2) == 4".into(),
//!     style: TestStyle::Codet,
//!     raw: true,
//! });
//! let pool = b.finish()?;
//! assert_eq!(pool.tasks[0].tests.len(), 2);
//! # Ok(()) }
//! ```

pub mod files;
pub mod record;

use crate::config::TestUnit;
use crate::error::Result;
use codejury_core::discard::{Discards, Reject};
use codejury_core::prompt::TestStyle;
use codejury_core::{Language, Problem, TestCase};
use codejury_sandbox::{Job, Limits};
use std::collections::{BTreeMap, HashMap};

/// One task's pool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskPool {
    /// The task's position in its benchmark (or in the files, without one):
    /// tasks are kept in this order.
    pub position: usize,
    /// The task.
    pub task_id: String,
    /// The problem, when a benchmark or problem file gave one.
    pub problem: Option<Problem>,
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
    /// Each generation's text as the tester wrote it (a tests file's test,
    /// or the model's whole text; empty for a failed call), aligned with
    /// `generations`: what a cost curve counts tokens of.
    pub generation_text: Vec<String>,
    /// What each sampled candidate (row) cost its model, when the pool
    /// recorded it (a `run`'s `solutions.jsonl` does; published pools do
    /// not), aligned with `rows`.
    pub candidate_usage: Vec<Option<Recorded>>,
    /// What each test generation cost its model, when recorded, aligned
    /// with `generations`.
    pub generation_usage: Vec<Option<Recorded>>,
}

/// What one generation cost the model that wrote it, as its backend
/// reported: the measured side of a cost curve, where a pool without it is
/// counted with a named tokenizer and has no latency at all. A call that
/// returned several samples is shared evenly among them.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    /// Prompt tokens.
    pub prompt_tokens: f64,
    /// Generated tokens.
    pub completion_tokens: f64,
    /// Wall time of the call, milliseconds.
    pub latency_ms: f64,
}

impl Recorded {
    /// One sample's share of `usage`, which `samples` samples shared.
    pub fn share(usage: &codejury_store::Usage, samples: usize) -> Recorded {
        Recorded {
            prompt_tokens: usage.prompt_tokens as f64,
            completion_tokens: usage.completion_tokens as f64,
            latency_ms: usage.latency_ms,
        }
        .split(samples)
    }

    /// One of `n` equal shares.
    pub fn split(self, n: usize) -> Recorded {
        let n = n.max(1) as f64;
        Recorded {
            prompt_tokens: self.prompt_tokens / n,
            completion_tokens: self.completion_tokens / n,
            latency_ms: self.latency_ms / n,
        }
    }

    /// Prompt and generated tokens together.
    pub fn tokens(&self) -> f64 {
        self.prompt_tokens + self.completion_tokens
    }
}

impl TaskPool {
    /// For each distinct program, the rows (sampled candidates) holding
    /// it: one verdict of a program is every such row's.
    pub fn rows_of_programs(&self) -> Vec<Vec<usize>> {
        let mut rows_of = vec![Vec::new(); self.programs.len()];
        for (row, &p) in self.rows.iter().enumerate() {
            rows_of[p].push(row);
        }
        rows_of
    }

    /// For each distinct test, the columns holding it.
    pub fn cols_of_tests(&self) -> Vec<Vec<usize>> {
        let mut cols_of = vec![Vec::new(); self.tests.len()];
        for (col, &t) in self.cols.iter().enumerate() {
            cols_of[t].push(col);
        }
        cols_of
    }

    /// One sandbox job per distinct program, each against every distinct
    /// test (job `p` runs `programs[p]`).
    pub fn jobs(&self, limits: Limits) -> Vec<Job> {
        self.programs
            .iter()
            .map(|program| Job {
                candidate: program.clone(),
                entry_point: self.problem.as_ref().map(|p| p.entry_point.clone()),
                prelude: None,
                tests: self.tests.clone(),
                limits,
            })
            .collect()
    }
}

/// The whole pool.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    /// Tasks in benchmark order, each with whatever it was given.
    pub tasks: Vec<TaskPool>,
    /// Test generations (or pieces of them) discarded, by reason.
    pub discards: Discards,
    /// Policy generations that held no candidate, by reason (each stays as
    /// an empty program that fails everything, so N stays N).
    pub candidate_discards: Discards,
    /// Exact duplicate tests dropped (CodeRM's rule) or counted by
    /// multiplicity (CodeT's).
    pub duplicate_tests: usize,
}

/// What happens to a plain test identical to one already kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// Dropped and counted (CodeRM drops exact duplicates): `eval`, `run`.
    Drop,
    /// Kept as another column of the same test: `exec` reports a verdict
    /// for every line of its tests file.
    Keep,
}

/// One test generation, as it reaches the pool.
#[derive(Debug, Clone, PartialEq)]
pub enum TestGeneration {
    /// A test as written (a tests file's `test` line).
    Plain(TestCase),
    /// A model's text, to cut tests out of in a style. `raw`: a base
    /// model's continuation taken as is (CodeT's pools).
    Text {
        /// The text.
        text: String,
        /// What it was asked for.
        style: TestStyle,
        /// Whether it is a raw continuation rather than a chat answer.
        raw: bool,
    },
    /// A generation that yielded nothing, for this reason (a failed call).
    Failed(Reject),
}

#[derive(Default)]
struct Entry {
    pool: TaskPool,
    program_index: HashMap<String, usize>,
    generations: Vec<TestGeneration>,
    generation_usage: Vec<Option<Recorded>>,
}

/// Which generation [`PoolBuilder::record_usage`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Of {
    /// The policy's (a candidate).
    Candidate,
    /// The tester's (a test generation).
    Tests,
}

/// Builds a [`Pool`]; see the module documentation.
pub struct PoolBuilder<'a> {
    language: &'a dyn Language,
    unit: TestUnit,
    duplicates: Duplicates,
    tasks: BTreeMap<usize, Entry>,
    candidate_discards: Discards,
}

impl<'a> PoolBuilder<'a> {
    /// A builder for `language`'s programs; `unit` says what one test of a
    /// CodeT sample is, `duplicates` what happens to repeated plain tests.
    pub fn new(language: &'a dyn Language, unit: TestUnit, duplicates: Duplicates) -> Self {
        PoolBuilder {
            language,
            unit,
            duplicates,
            tasks: BTreeMap::new(),
            candidate_discards: Discards::default(),
        }
    }

    /// The language.
    pub fn language(&self) -> &'a dyn Language {
        self.language
    }

    fn entry(&mut self, position: usize, task_id: &str, problem: Option<&Problem>) -> &mut Entry {
        let e = self.tasks.entry(position).or_default();
        if e.pool.task_id.is_empty() {
            e.pool.position = position;
            e.pool.task_id = task_id.to_string();
            e.pool.problem = problem.cloned();
        }
        e
    }

    /// Adds one sampled candidate, already a whole program, to the task at
    /// `position`.
    pub fn candidate(&mut self, position: usize, problem: &Problem, program: String) {
        self.candidate_for(position, &problem.task_id, Some(problem), program);
    }

    /// Adds one sampled candidate to a task that may have no problem
    /// attached (`exec` without a benchmark).
    pub fn candidate_for(
        &mut self,
        position: usize,
        task_id: &str,
        problem: Option<&Problem>,
        program: String,
    ) {
        let e = self.entry(position, task_id, problem);
        let next = e.pool.programs.len();
        let k = *e.program_index.entry(program.clone()).or_insert(next);
        if k == next {
            e.pool.programs.push(program);
        }
        e.pool.rows.push(k);
        e.pool.candidate_usage.push(None);
    }

    /// Adds one policy generation: the candidate the language finds in it,
    /// or an empty program (which fails everything) with the reason counted.
    pub fn candidate_text(&mut self, position: usize, problem: &Problem, text: &str) {
        let program = match self.language.candidate(text, problem) {
            Ok(p) => p,
            Err(why) => {
                self.candidate_discards.add(why);
                String::new()
            }
        };
        self.candidate(position, problem, program);
    }

    /// Adds one test generation to the task at `position`.
    pub fn tests(&mut self, position: usize, problem: &Problem, generation: TestGeneration) {
        self.tests_for(position, &problem.task_id, Some(problem), generation);
    }

    /// Adds one test generation to a task that may have no problem attached.
    pub fn tests_for(
        &mut self,
        position: usize,
        task_id: &str,
        problem: Option<&Problem>,
        generation: TestGeneration,
    ) {
        let e = self.entry(position, task_id, problem);
        e.generations.push(generation);
        e.generation_usage.push(None);
    }

    /// Records what the last candidate (`Of::Candidate`) or test generation
    /// (`Of::Tests`) added to the task at `position` cost its model.
    pub fn record_usage(&mut self, position: usize, of: Of, usage: Recorded) {
        if let Some(e) = self.tasks.get_mut(&position) {
            let last = match of {
                Of::Candidate => e.pool.candidate_usage.last_mut(),
                Of::Tests => e.generation_usage.last_mut(),
            };
            if let Some(slot) = last {
                *slot = Some(usage);
            }
        }
    }

    /// Cuts, screens and deduplicates every test generation, and returns
    /// the pool. Fails only if the language's checker cannot run at all.
    pub fn finish(self) -> Result<Pool> {
        let language = self.language;
        let empty = Problem {
            task_id: String::new(),
            prompt: String::new(),
            entry_point: String::new(),
            reference: None,
        };
        // Cut every text into pieces, and screen the pieces of each style
        // in one batch.
        let mut cut: Vec<Vec<Vec<Result<String, Reject>>>> = Vec::new();
        let mut batches: HashMap<TestStyle, Vec<String>> = HashMap::new();
        for e in self.tasks.values() {
            let problem = e.pool.problem.as_ref().unwrap_or(&empty);
            let pieces: Vec<Vec<Result<String, Reject>>> = e
                .generations
                .iter()
                .map(|g| match g {
                    TestGeneration::Text { text, style, raw } => {
                        let p = language.test_pieces(text, problem, *style, *raw);
                        batches
                            .entry(*style)
                            .or_default()
                            .extend(p.iter().filter_map(|x| x.as_ref().ok().cloned()));
                        p
                    }
                    _ => Vec::new(),
                })
                .collect();
            cut.push(pieces);
        }
        let mut screened: HashMap<(TestStyle, String), Result<(), Reject>> = HashMap::new();
        for (style, mut pieces) in batches {
            pieces.sort_unstable();
            pieces.dedup();
            let answers = language.screen(style, &pieces)?;
            for (p, a) in pieces.into_iter().zip(answers) {
                screened.insert((style, p), a);
            }
        }

        let mut pool = Pool {
            candidate_discards: self.candidate_discards,
            ..Pool::default()
        };
        for (e, pieces) in self.tasks.into_values().zip(cut) {
            let mut tp = e.pool;
            tp.generation_usage = e.generation_usage;
            let mut index: HashMap<TestCase, usize> = HashMap::new();
            for (g, pieces) in e.generations.into_iter().zip(pieces) {
                let start = tp.cols.len();
                tp.generation_text.push(match &g {
                    TestGeneration::Failed(_) => String::new(),
                    TestGeneration::Plain(case) => case.code.clone(),
                    TestGeneration::Text { text, .. } => text.clone(),
                });
                let cases: Vec<(TestCase, bool)> = match g {
                    TestGeneration::Failed(why) => {
                        pool.discards.add(why);
                        Vec::new()
                    }
                    TestGeneration::Plain(case) => {
                        vec![(case, self.duplicates == Duplicates::Drop)]
                    }
                    TestGeneration::Text { style, .. } => {
                        let mut kept = Vec::new();
                        for piece in pieces {
                            let verdict =
                                piece.and_then(|p| match screened.get(&(style, p.clone())) {
                                    Some(Ok(())) => Ok(p),
                                    Some(Err(why)) => Err(*why),
                                    None => Err(Reject::TooComplex),
                                });
                            match verdict {
                                Err(why) => pool.discards.add(why),
                                Ok(_) if kept.len() == style.per_generation() => {
                                    pool.discards.add(Reject::OverCap)
                                }
                                Ok(p) => kept.push(p),
                            }
                        }
                        match style {
                            TestStyle::Coderm => kept
                                .into_iter()
                                .map(|code| (TestCase::new(language.unit_format(), code), true))
                                .collect(),
                            TestStyle::Codet => {
                                let units = match self.unit {
                                    TestUnit::Assert => kept,
                                    TestUnit::Sample if kept.is_empty() => Vec::new(),
                                    TestUnit::Sample => vec![language.join_assertions(&kept)],
                                };
                                units
                                    .into_iter()
                                    .map(|code| {
                                        (TestCase::new(language.assert_format(), code), false)
                                    })
                                    .collect()
                            }
                        }
                    }
                };
                for (case, drop_duplicate) in cases {
                    let next = tp.tests.len();
                    let k = *index.entry(case.clone()).or_insert(next);
                    if k == next {
                        tp.tests.push(case);
                    } else {
                        pool.duplicate_tests += 1;
                        if drop_duplicate {
                            pool.discards.add(Reject::Duplicate);
                            continue;
                        }
                    }
                    tp.cols.push(k);
                }
                tp.generations.push(tp.cols.len() - start);
            }
            pool.tasks.push(tp);
        }
        Ok(pool)
    }
}
