//! A process language as the pipeline's [`Language`].

use crate::{extract, prompts, split};
use codejury_core::discard::Reject;
use codejury_core::prompt::{Ask, PromptStyle, TestStyle};
use codejury_core::{Lang, Language, LanguageError, Problem, TestFormat};
use codejury_python::screen::MAX_TEST_BYTES;

/// One of the languages whose programs run as processes.
///
/// Every test is a [`TestFormat::PROGRAM`]: a whole test program run after
/// the candidate in the same file, as MBXP runs its own. CodeRM's style
/// keeps a generation's program as one test unit; CodeT's splits it into
/// its single checks ([`crate::split`]), one test each, as CodeT takes
/// one test per assertion.
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
        tests: TestStyle,
        raw: bool,
    ) -> Vec<Result<String, Reject>> {
        let program = extract::test_program(self.lang, text, &problem.entry_point, raw);
        match (tests, program) {
            (TestStyle::Codet, Ok(p)) => {
                match split::single_checks(self.lang, &p, &problem.entry_point) {
                    Some(checks) => checks.into_iter().map(Ok).collect(),
                    None => vec![Ok(p)],
                }
            }
            (_, program) => vec![program],
        }
    }

    fn single_checks(&self, test: &str, entry_point: &str) -> Option<Vec<String>> {
        split::single_checks(self.lang, test, entry_point)
    }

    /// Every piece of a sane size may be a test: the compiler is the
    /// screen, at run time (a test that does not build is an `error` for
    /// every candidate, which the vote gives no weight). A piece larger
    /// than any test a harness is sent is [`Reject::TooLarge`], as in
    /// Python.
    fn screen(
        &self,
        _tests: TestStyle,
        pieces: &[String],
    ) -> Result<Vec<Result<(), Reject>>, LanguageError> {
        Ok(pieces
            .iter()
            .map(|p| {
                if p.len() > MAX_TEST_BYTES {
                    Err(Reject::TooLarge)
                } else {
                    Ok(())
                }
            })
            .collect())
    }

    fn join_assertions(&self, assertions: &[String]) -> String {
        assertions.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codet_style_takes_one_test_per_check_coderm_one_per_program() {
        let js = ExecLanguage::new(Lang::JavaScript).unwrap();
        let problem = Problem {
            task_id: "T/1".into(),
            prompt: "function add(a, b) {\n".into(),
            entry_point: "add".into(),
            reference: None,
        };
        let text = "```javascript\nconst assert = require(\"assert\");\n\n// Check 1\nassert.deepStrictEqual(add(1, 2), 3);\n// Check 2\nassert.deepStrictEqual(add(0, 0), 0);\n```";
        let codet = js.test_pieces(text, &problem, TestStyle::Codet, false);
        assert_eq!(codet.len(), 2);
        for (piece, other) in codet.iter().zip(["add(0, 0)", "add(1, 2)"]) {
            let piece = piece.as_ref().unwrap();
            assert!(
                piece.contains("require(\"assert\")") && !piece.contains(other),
                "{piece}"
            );
        }
        let coderm = js.test_pieces(text, &problem, TestStyle::Coderm, false);
        assert_eq!(coderm.len(), 1);
        assert!(coderm[0].as_ref().unwrap().contains("add(0, 0)"));
        let huge = "x".repeat(MAX_TEST_BYTES + 1);
        let screened = js.screen(TestStyle::Coderm, &["ok".into(), huge]).unwrap();
        assert_eq!(screened, vec![Ok(()), Err(Reject::TooLarge)]);
    }
}
