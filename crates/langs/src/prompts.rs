//! What a model is asked for in a process language: a solution in one
//! fenced block, and a test *program* in the shape MBXP's own tests take
//! (CodeRM's one test unit with a few commented checks, translated: a
//! program that runs its checks in turn and exits non-zero at the first
//! that fails).

use crate::extract::fence_tags;
use codejury_core::prompt::{Ask, Message, Prompt, PromptStyle, TestStyle};
use codejury_core::{Lang, Problem};

/// How a failed check stops a test program in each language, shown to the
/// tester as the idiom to follow.
fn check_idiom(lang: Lang, entry: &str) -> String {
    match lang {
        Lang::JavaScript | Lang::TypeScript => format!(
            "const assert = require(\"assert\");\n\n// Check 1: a typical input\nassert.deepStrictEqual({entry}(...), ...);\n// Check 2: an edge case\nassert.deepStrictEqual({entry}(...), ...);"
        ),
        Lang::Cpp => format!(
            "int main() {{\n    // Check 1: a typical input\n    if (!({entry}(...) == ...)) throw std::runtime_error(\"check 1\");\n    // Check 2: an edge case\n    if (!({entry}(...) == ...)) throw std::runtime_error(\"check 2\");\n    return 0;\n}}"
        ),
        Lang::Java => "class Main {\n    public static void main(String[] args) throws Exception {\n        // Check 1: a typical input\n        if (!(/* call */ .equals(/* expected */))) throw new Exception(\"check 1\");\n        // Check 2: an edge case\n        if (!(/* call */ .equals(/* expected */))) throw new Exception(\"check 2\");\n    }\n}".to_string(),
        Lang::Go => format!(
            "func main() {{\n\t// Check 1: a typical input\n\tif !reflect.DeepEqual({entry}(...), ...) {{\n\t\tpanic(\"check 1\")\n\t}}\n\t// Check 2: an edge case\n\tif !reflect.DeepEqual({entry}(...), ...) {{\n\t\tpanic(\"check 2\")\n\t}}\n}}"
        ),
        Lang::Php => format!(
            "// Check 1: a typical input\nif ({entry}(...) != ...) {{ throw new Exception(\"check 1\"); }}\n// Check 2: an edge case\nif ({entry}(...) != ...) {{ throw new Exception(\"check 2\"); }}"
        ),
        Lang::Ruby => format!(
            "# Check 1: a typical input\nraise \"check 1\" unless {entry}(...) == ...\n# Check 2: an edge case\nraise \"check 2\" unless {entry}(...) == ..."
        ),
        Lang::Perl => format!(
            "use Data::Compare;\n# Check 1: a typical input\ndie \"check 1\" unless Compare({entry}(...), ...);\n# Check 2: an edge case\ndie \"check 2\" unless Compare({entry}(...), ...);"
        ),
        Lang::Python => String::new(),
    }
}

/// The policy's prompt: the problem's prompt to complete, in one fenced
/// block of the language (chat), or the prompt itself to continue (base).
pub fn solution(lang: Lang, problem: &Problem, style: PromptStyle) -> Ask {
    match style {
        PromptStyle::Base => Ask {
            prompt: Prompt::Text(problem.prompt.clone()),
            stop: Vec::new(),
        },
        PromptStyle::Chat => {
            let tag = fence_tags(lang)[0];
            let text = format!(
                "Complete the following {name} code. Answer with the whole function `{entry}` (and any helper it needs) in one ```{tag} code block; do not write a main function or tests.\n\n```{tag}\n{prompt}\n```",
                name = lang.display_name(),
                entry = problem.entry_point,
                prompt = problem.prompt.trim_end(),
            );
            Ask {
                prompt: Prompt::Chat(vec![Message::user(text)]),
                stop: Vec::new(),
            }
        }
    }
}

/// The tester's prompt: one test program with a few commented checks of
/// the entry point, in the idiom MBXP's tests use.
pub fn unit_tests(lang: Lang, problem: &Problem, tests: TestStyle) -> Ask {
    let tag = fence_tags(lang)[0];
    let how_many = match tests {
        TestStyle::Coderm => "a few checks (3 to 5)",
        TestStyle::Codet => "5 single-line checks",
    };
    let text = format!(
        "Here is a {name} function to test:\n\n```{tag}\n{prompt}\n```\n\nWrite a {name} test program for `{entry}` with {how_many}, each preceded by a comment saying what it checks. A failed check must stop the program with an error; when all pass it must end normally. The function is already defined above your code: do not define it again and do not print anything. Follow this shape, in one ```{tag} block:\n\n```{tag}\n{idiom}\n```",
        name = lang.display_name(),
        entry = problem.entry_point,
        prompt = problem.prompt.trim_end(),
        idiom = check_idiom(lang, &problem.entry_point),
    );
    Ask {
        prompt: Prompt::Chat(vec![Message::user(text)]),
        stop: Vec::new(),
    }
}
