//! The seam between the pipeline and a programming language.
//!
//! Everything that depends on the language a candidate is written in —
//! what the model is asked, how a candidate or a test is cut out of its
//! answer, which test formats exist, how a test is checked before it is
//! kept — sits behind [`Language`]. How programs are built and run is the
//! other half of the seam, `codejury_sandbox::Toolchain`. The pipeline
//! holds one of each and never looks at source text itself, so a new
//! language is one crate implementing both.

use crate::discard::Reject;
use crate::prompt::{Ask, PromptStyle, TestStyle};
use crate::{Problem, TestCase, TestFormat};
use std::fmt;

/// Why a language could not do its part (its checker would not run, say).
/// A single bad snippet is never this: it is a [`Reject`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct LanguageError {
    /// What went wrong, naming the program that failed.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

/// One programming language, as the pipeline needs it.
pub trait Language: Send + Sync + fmt::Debug {
    /// The language's name, as benchmarks and users spell it (`python`).
    fn name(&self) -> &'static str;

    /// The format a test file names, if this language runs it.
    fn parse_format(&self, name: &str) -> Option<TestFormat>;

    /// The format of a test whose file names none, guessed from its source.
    fn detect_format(&self, code: &str) -> TestFormat;

    /// The format of one test unit written in CodeRM's style.
    fn unit_format(&self) -> TestFormat;

    /// The format of one CodeT-style assertion (or several joined).
    fn assert_format(&self) -> TestFormat;

    /// What starts a line comment: the text-agreement features drop
    /// comments so that commentary does not make programs look different.
    fn line_comment(&self) -> &'static str;

    /// The policy's prompt for a problem.
    fn solution_prompt(&self, problem: &Problem, style: PromptStyle) -> Ask;

    /// The tester's prompt for a problem.
    fn test_prompt(&self, problem: &Problem, tests: TestStyle, style: PromptStyle) -> Ask;

    /// The candidate program in one policy generation, or why there is none.
    fn candidate(&self, text: &str, problem: &Problem) -> Result<String, Reject>;

    /// The program a base model's raw completion of the problem's prompt
    /// makes (CodeT's pools): the prompt continued, cut where the function
    /// ends.
    fn continuation(&self, problem: &Problem, completion: &str) -> String;

    /// The test pieces of one tester generation, in order, before they are
    /// screened: one per CodeRM generation, one per assertion for CodeT.
    /// `raw` says the text is a base model's continuation taken as is
    /// (CodeT's pools), not a chat answer whose code sits in fences.
    fn test_pieces(
        &self,
        text: &str,
        problem: &Problem,
        tests: TestStyle,
        raw: bool,
    ) -> Vec<Result<String, Reject>>;

    /// Checks pieces with the language's own parser, all in one go: `Ok`
    /// for a piece that may be a test of this style, else why not. Must
    /// answer for every piece, however pathological (a piece its parser
    /// cannot take apart is [`Reject::TooComplex`]); an `Err` means the
    /// checker itself could not run.
    fn screen(
        &self,
        tests: TestStyle,
        pieces: &[String],
    ) -> Result<Vec<Result<(), Reject>>, LanguageError>;

    /// A test program cut into its single checks, each a test of its own
    /// that keeps the program's helpers, so that a benchmark's ground truth
    /// can serve as a pool of tests; `None` when the test is not a program
    /// of several checks this language can cut (the default).
    fn single_checks(&self, test: &str, entry_point: &str) -> Option<Vec<String>> {
        let _ = (test, entry_point);
        None
    }

    /// One test made of several assertions that passes iff all pass (the
    /// unit CodeRM's evaluation gives a CodeT sample).
    fn join_assertions(&self, assertions: &[String]) -> String;

    /// The test that runs one whole program the way a user's shell would
    /// (SandboxFusion's `/run_code`): `spec` is JSON with `code`, `stdin`,
    /// `files` (path → base64), `fetch_files` and `output_cap`; the test
    /// passes when the program ran to its end, and its value is JSON with
    /// `stdout`, `stderr`, `return_code`, `truncated` and `files`. `None`:
    /// this language cannot run whole programs yet.
    fn program_test(&self, spec: String) -> Option<TestCase> {
        let _ = spec;
        None
    }
}

impl crate::Hint for LanguageError {
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}
