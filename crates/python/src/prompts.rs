//! The prompts codejury sends for Python: solutions for chat and base
//! models, unit tests in CodeRM's layout and CodeT's assert style.

use crate::extract::CODET_STOP;
use codejury_core::prompt::{Ask, Message, Prompt, PromptStyle as Style};
use codejury_core::Problem;

/// The policy's prompt: chat models get the problem and are asked for one
/// fenced block with the whole function; base models continue the
/// benchmark prompt and stop where CodeT stops a function body.
pub fn solution(problem: &Problem, style: Style) -> Ask {
    match style {
        Style::Chat => Ask {
            prompt: Prompt::Chat(vec![Message::user(format!(
                "Complete the following Python function. Answer with the whole function, \
                 including the imports it needs, in one ```python code block.\n\n\
                 ```python\n{}\n```",
                problem.prompt.trim_end()
            ))]),
            stop: Vec::new(),
        },
        Style::Base => Ask {
            prompt: Prompt::Text(problem.prompt.clone()),
            stop: CODET_STOP.iter().map(|s| s.to_string()).collect(),
        },
    }
}

/// CodeRM's unit-test prompt, in the exact layout CodeRM-8B was trained on
/// (its model card): an instruction, the question, one solution in function
/// form (mainly for the name and signature), and a closing request for
/// commented tests that do not test raised exceptions. A different layout
/// measurably degrades that model's tests.
pub fn coderm_tests(question: &str, code: &str) -> Ask {
    Ask {
        prompt: Prompt::Chat(vec![Message::user(format!(
            "Below is a question and it's corresponding code answer. Please write test cases to \
             check the correctness of the code answer. You need to use the unittest library in \
             Python and create a test class for testing.\n\n### question\n{question}\n\n\
             ### code solution\n{code}\n\nPlease add detailed comments to the test cases you \
             write. You do not need to test the function's ability to throw exceptions.\n"
        ))]),
        stop: Vec::new(),
    }
}

/// The unit-test prompt for a problem: its statement as the question, and
/// its reference solution (or, lacking one, the bare prompt) as the code.
pub fn unit_tests(problem: &Problem) -> Ask {
    let code = problem.reference.as_deref().unwrap_or(&problem.prompt);
    coderm_tests(problem.prompt.trim_end(), code.trim_end())
}

/// CodeT's test prompt: the function stubbed with `pass`, then a comment
/// and a started `assert` for a base model to continue; the completion is
/// split into asserts as CodeT does. Chat models get the same request in
/// words and answer with asserts in a block.
pub fn codet_tests(problem: &Problem, style: Style) -> Ask {
    let entry = &problem.entry_point;
    match style {
        Style::Base => Ask {
            prompt: Prompt::Text(format!(
                "{}    pass\n\n# check the correctness of {entry}\nassert",
                problem.prompt
            )),
            stop: vec!["\n\n\n".into(), "\ndef".into(), "\nclass".into()],
        },
        Style::Chat => Ask {
            prompt: Prompt::Chat(vec![Message::user(format!(
                "Write 5 assert statements that check the correctness of `{entry}`, one per \
                 line, each calling `{entry}` with concrete arguments and comparing the result \
                 with the expected value. Answer with the asserts only, in one ```python code \
                 block.\n\n```python\n{}\n```",
                problem.prompt.trim_end()
            ))]),
            stop: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> Problem {
        Problem {
            task_id: "T/0".into(),
            prompt: "def add(a, b):\n    \"\"\"Adds.\"\"\"\n".into(),
            entry_point: "add".into(),
            reference: Some("def add(a, b):\n    \"\"\"Adds.\"\"\"\n    return a + b\n".into()),
        }
    }

    #[test]
    fn the_coderm_prompt_has_its_sections_in_order() {
        let Prompt::Chat(m) = unit_tests(&problem()).prompt else {
            panic!("chat expected")
        };
        let text = &m[0].content;
        let q = text.find("### question\ndef add").unwrap();
        let c = text.find("### code solution\ndef add").unwrap();
        let close = text.find("Please add detailed comments").unwrap();
        assert!(text.starts_with("Below is a question and it's corresponding code answer."));
        assert!(q < c && c < close);
        assert!(text.contains("return a + b\n\nPlease add"));
        assert!(text.ends_with("throw exceptions.\n"));
    }

    #[test]
    fn base_prompts_continue_the_benchmark_text() {
        let p = problem();
        let a = solution(&p, Style::Base);
        assert_eq!(a.prompt, Prompt::Text(p.prompt.clone()));
        assert!(a.stop.contains(&"\ndef".to_string()));
        let Prompt::Text(t) = codet_tests(&p, Style::Base).prompt else {
            panic!("text expected")
        };
        assert!(t.ends_with("    pass\n\n# check the correctness of add\nassert"));
    }
}
