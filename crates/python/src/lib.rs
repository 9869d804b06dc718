//! Python for codejury: everything about the language, behind the two
//! halves of the seam — [`Python`] (a [`Language`]: prompts, candidate and
//! test extraction, test formats, the parser's screen) and
//! [`PythonToolchain`] (a `codejury_sandbox::Toolchain`: the harness, the
//! interpreter, its fingerprint and memory policy).
//!
//! ```no_run
//! use codejury_core::prompt::TestStyle;
//! use codejury_core::{Language, Problem};
//! use codejury_python::{Python, PythonToolchain};
//!
//! let toolchain = PythonToolchain::resolve()?;
//! let python = Python::new(&toolchain);
//! let problem = Problem {
//!     task_id: "T/0".into(),
//!     prompt: "def add(a, b):\n".into(),
//!     entry_point: "add".into(),
//!     reference: None,
//! };
//! let pieces = python.test_pieces("assert add(1, 2) == 3", &problem, TestStyle::Codet, true);
//! assert_eq!(pieces.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod extract;
pub mod formats;
pub mod prompts;
pub mod screen;
mod toolchain;

pub use toolchain::{NoPython, PythonToolchain, HARNESS};

use codejury_core::discard::Reject;
use codejury_core::prompt::{Ask, PromptStyle, TestStyle};
use codejury_core::{Language, LanguageError, Problem, TestCase, TestFormat};
use std::path::PathBuf;

/// Python as the pipeline sees it.
#[derive(Debug, Clone)]
pub struct Python {
    /// The interpreter whose parser screens test pieces.
    interpreter: PathBuf,
}

impl Python {
    /// Python, screening tests with the toolchain's interpreter (the one
    /// that will run them).
    pub fn new(toolchain: &PythonToolchain) -> Python {
        Python {
            interpreter: toolchain.python().to_path_buf(),
        }
    }
}

/// What CodeT's split reads in a chat answer: its fenced code joined, or
/// the whole text when it has no fences.
fn codet_text(text: &str) -> String {
    let blocks = extract::code_blocks(text);
    if blocks.is_empty() {
        text.to_string()
    } else {
        blocks.join("\n")
    }
}

impl Language for Python {
    fn name(&self) -> &'static str {
        "python"
    }

    fn parse_format(&self, name: &str) -> Option<TestFormat> {
        formats::parse(name)
    }

    fn detect_format(&self, code: &str) -> TestFormat {
        formats::detect(code)
    }

    fn unit_format(&self) -> TestFormat {
        formats::UNITTEST
    }

    fn assert_format(&self) -> TestFormat {
        formats::ASSERT
    }

    fn line_comment(&self) -> &'static str {
        "#"
    }

    fn solution_prompt(&self, problem: &Problem, style: PromptStyle) -> Ask {
        prompts::solution(problem, style)
    }

    fn test_prompt(&self, problem: &Problem, tests: TestStyle, style: PromptStyle) -> Ask {
        match tests {
            TestStyle::Coderm => prompts::unit_tests(problem),
            TestStyle::Codet => prompts::codet_tests(problem, style),
        }
    }

    fn candidate(&self, text: &str, problem: &Problem) -> Result<String, Reject> {
        extract::candidate_program(text, &problem.prompt, &problem.entry_point)
    }

    fn continuation(&self, problem: &Problem, completion: &str) -> String {
        format!("{}{}", problem.prompt, extract::cut_at_stop(completion))
    }

    fn test_pieces(
        &self,
        text: &str,
        problem: &Problem,
        tests: TestStyle,
        raw: bool,
    ) -> Vec<Result<String, Reject>> {
        match tests {
            TestStyle::Coderm => vec![extract::coderm_unittest(text, &problem.entry_point)],
            TestStyle::Codet if raw => extract::codet_pieces(text, &problem.entry_point),
            TestStyle::Codet => extract::codet_pieces(&codet_text(text), &problem.entry_point),
        }
    }

    fn screen(
        &self,
        tests: TestStyle,
        pieces: &[String],
    ) -> Result<Vec<Result<(), Reject>>, LanguageError> {
        let mode = match tests {
            TestStyle::Coderm => screen::Mode::Unit,
            TestStyle::Codet => screen::Mode::Assert,
        };
        screen::screen(&self.interpreter, mode, pieces)
    }

    fn join_assertions(&self, assertions: &[String]) -> String {
        assertions.join("\n")
    }

    fn program_test(&self, spec: String) -> Option<TestCase> {
        Some(TestCase {
            format: formats::ASSERT,
            code: RUN_PROGRAM.to_string(),
            data: Some(spec),
        })
    }
}

/// The test code that runs a whole program as `python main.py` would,
/// capturing its output and exit code (see [`Language::program_test`]).
const RUN_PROGRAM: &str = include_str!("run_program.py");
