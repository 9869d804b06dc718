//! A process language as the pipeline's [`Language`].

use crate::{extract, prompts};
use codejury_core::discard::Reject;
use codejury_core::prompt::{Ask, PromptStyle, TestStyle};
use codejury_core::{Lang, Language, LanguageError, Problem, TestFormat};

/// One of the languages whose programs run as processes.
///
/// Every test is a [`TestFormat::PROGRAM`]: a whole test program run after
/// the candidate in the same file, as MBXP runs its own. CodeT's style
/// asks for single-line checks but a generation is still one program (one
/// test); splitting a program into single-check tests is not built yet.
#[derive(Debug, Clone, Copy)]
pub struct ExecLanguage {
    lang: Lang,
}

impl ExecLanguage {
    /// The language; `Lang::Python` has its own crate and is refused.
    pub fn new(lang: Lang) -> Option<ExecLanguage> {
        (lang != Lang::Python).then_some(ExecLanguage { lang })
    }

    /// Which language this is.
    pub fn lang(&self) -> Lang {
        self.lang
    }
}

impl Language for ExecLanguage {
    fn name(&self) -> &'static str {
        self.lang.as_str()
    }

    fn parse_format(&self, name: &str) -> Option<TestFormat> {
        (name == TestFormat::PROGRAM.as_str()).then_some(TestFormat::PROGRAM)
    }

    fn detect_format(&self, _code: &str) -> TestFormat {
        TestFormat::PROGRAM
    }

    fn unit_format(&self) -> TestFormat {
        TestFormat::PROGRAM
    }

    fn assert_format(&self) -> TestFormat {
        TestFormat::PROGRAM
    }

    fn line_comment(&self) -> &'static str {
        match self.lang {
            Lang::Ruby | Lang::Perl | Lang::Python => "#",
            _ => "//",
        }
    }

    fn solution_prompt(&self, problem: &Problem, style: PromptStyle) -> Ask {
        prompts::solution(self.lang, problem, style)
    }

    fn test_prompt(&self, problem: &Problem, tests: TestStyle, _style: PromptStyle) -> Ask {
        prompts::unit_tests(self.lang, problem, tests)
    }

    fn candidate(&self, text: &str, problem: &Problem) -> Result<String, Reject> {
        extract::candidate_program(self.lang, text, problem)
    }

    fn continuation(&self, problem: &Problem, completion: &str) -> String {
        extract::continuation(self.lang, &problem.prompt, completion)
    }

    fn test_pieces(
        &self,
        text: &str,
        problem: &Problem,
        _tests: TestStyle,
        raw: bool,
    ) -> Vec<Result<String, Reject>> {
        vec![extract::test_program(
            self.lang,
            text,
            &problem.entry_point,
            raw,
        )]
    }

    /// Every piece may be a test: the compiler is the screen, at run time
    /// (a test that does not build is an `error` for every candidate, which
    /// the vote gives no weight).
    fn screen(
        &self,
        _tests: TestStyle,
        pieces: &[String],
    ) -> Result<Vec<Result<(), Reject>>, LanguageError> {
        Ok(pieces.iter().map(|_| Ok(())).collect())
    }

    fn join_assertions(&self, assertions: &[String]) -> String {
        assertions.join("\n")
    }
}
