//! Turning model text into Python candidates and unit tests, with a
//! reason for everything discarded.
//!
//! ```
//! use codejury_python::extract::candidate_program;
//!
//! let prompt = "def add(a, b):\n";
//! let chat = "Sure:\n```python\ndef add(a, b):\n    return a + b\n```\n";
//! assert_eq!(candidate_program(chat, prompt, "add").unwrap(), "def add(a, b):\n    return a + b");
//! ```

use codejury_core::discard::Reject;
#[cfg(doc)]
use codejury_core::prompt::CODET_TESTS_PER_SAMPLE;

/// CodeT's stop sequences: a completion ends where the function does.
pub const CODET_STOP: [&str; 5] = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"];

/// The fenced code blocks of a markdown text: ```` ```python ```` blocks, or
/// plain ```` ``` ```` blocks when there are none (as CodeRM extracts them).
pub fn code_blocks(text: &str) -> Vec<String> {
    let blocks = fenced(text, "```python\n");
    if blocks.is_empty() {
        fenced(text, "```\n")
    } else {
        blocks
    }
}

fn fenced(text: &str, open: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let body = &rest[start + open.len()..];
        let Some(end) = body.find("\n```") else { break };
        out.push(body[..end].to_string());
        rest = &body[end + 4..];
    }
    out
}

/// A CodeRM-style generation to one `unittest` test: exactly one fenced
/// block holding exactly one class that subclasses `TestCase`; lines that
/// import the solution (`from M import ...` naming the entry point, or from
/// `your_module`/`solution`) and the `if __name__ == '__main__':` block are
/// removed.
pub fn coderm_unittest(text: &str, entry_point: &str) -> Result<String, Reject> {
    let blocks = code_blocks(text);
    let code = match blocks.len() {
        0 => return Err(Reject::NoCodeBlock),
        1 => &blocks[0],
        _ => return Err(Reject::SeveralCodeBlocks),
    };
    let classes: Vec<&str> = code.lines().filter(|l| l.starts_with("class ")).collect();
    match classes.len() {
        0 => return Err(Reject::NoTestClass),
        1 if !classes[0].contains("TestCase") => return Err(Reject::NoTestClass),
        1 => {}
        _ => return Err(Reject::SeveralClasses),
    }
    let mut out = Vec::new();
    let mut in_main = false;
    for line in code.lines() {
        if in_main {
            if line.starts_with(' ') || line.starts_with('\t') || line.trim().is_empty() {
                continue;
            }
            in_main = false;
        }
        let t = line.trim_start();
        if line.starts_with("if __name__") && t.contains("__main__") {
            in_main = true;
            continue;
        }
        if line.starts_with("from ") && imports_solution(line, entry_point) {
            continue;
        }
        out.push(line);
    }
    let mut s = out.join("\n");
    s.push('\n');
    Ok(s)
}

fn imports_solution(line: &str, entry_point: &str) -> bool {
    let Some((module, names)) = line["from ".len()..].split_once(" import ") else {
        return false;
    };
    let module = module.trim();
    matches!(module, "your_module" | "solution" | "main" | "__main__")
        || names
            .split(',')
            .any(|n| n.split_whitespace().next() == Some(entry_point))
}

/// CodeT's split of one raw test completion (the text after the prompt's
/// final `assert `) into `assert` pieces, before they are checked and
/// capped at [`CODET_TESTS_PER_SAMPLE`]: each piece that mentions the
/// entry point, cut at the first stop sequence; the others as
/// [`Reject::NoAssert`].
pub fn codet_pieces(completion: &str, entry_point: &str) -> Vec<Result<String, Reject>> {
    format!("assert {completion}")
        .split("assert ")
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            if part.contains(entry_point.trim()) {
                Ok(format!("assert {}", cut_at_stop(part)).trim().to_string())
            } else {
                Err(Reject::NoAssert)
            }
        })
        .collect()
}

/// The candidate program in one policy generation.
///
/// Chat models answer with a fenced block holding the whole function; base
/// models continue the prompt. So: the first fenced block that defines the
/// entry point, exactly as the model wrote it; else the text itself when it
/// is a whole program defining the entry point; else the prompt continued
/// by the text, cut where CodeT cuts a completion. With no entry point
/// named (a reward request that carries only tests), any first block is the
/// program.
pub fn candidate_program(text: &str, prompt: &str, entry_point: &str) -> Result<String, Reject> {
    if text.trim().is_empty() {
        return Err(Reject::Empty);
    }
    let defines = |code: &str| {
        entry_point.is_empty()
            || code.lines().any(|l| {
                let l = l.trim_start();
                l.strip_prefix("def ")
                    .or_else(|| l.strip_prefix("async def "))
                    .is_some_and(|rest| {
                        rest.trim_start().starts_with(entry_point)
                            && rest.trim_start()[entry_point.len()..]
                                .trim_start()
                                .starts_with('(')
                    })
            })
    };
    let blocks = code_blocks(text);
    if let Some(b) = blocks.iter().find(|b| defines(b)) {
        return Ok(b.clone());
    }
    if !blocks.is_empty() {
        return Err(Reject::NoEntryPoint);
    }
    if defines(text) && !text.starts_with(' ') && !text.starts_with('\t') {
        return Ok(text.to_string());
    }
    let body = cut_at_stop(text);
    if body.trim().is_empty() {
        return Err(Reject::Empty);
    }
    Ok(format!("{prompt}{body}"))
}

/// A completion cut at the first of CodeT's stop sequences.
pub fn cut_at_stop(text: &str) -> &str {
    let end = CODET_STOP
        .iter()
        .filter_map(|s| text.find(s))
        .min()
        .unwrap_or(text.len());
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_come_from_blocks_whole_programs_or_completions() {
        let prompt = "def add(a, b):\n    \"\"\"Adds.\"\"\"\n";
        let chat = "Sure:\n```python\nimport math\n\ndef add(a, b):\n    return a + b\n```\n";
        assert_eq!(
            candidate_program(chat, prompt, "add").unwrap(),
            "import math\n\ndef add(a, b):\n    return a + b"
        );
        let other = "```python\ndef sub(a, b):\n    return a - b\n```";
        assert_eq!(
            candidate_program(other, prompt, "add"),
            Err(Reject::NoEntryPoint)
        );
        let whole = "def add(a, b):\n    return b + a\n";
        assert_eq!(candidate_program(whole, prompt, "add").unwrap(), whole);
        let completion = "    return a + b\n\ndef extra():\n    pass\n";
        assert_eq!(
            candidate_program(completion, prompt, "add").unwrap(),
            format!("{prompt}    return a + b\n")
        );
        assert_eq!(candidate_program("  \n", prompt, "add"), Err(Reject::Empty));
        // `addition(` is not `add(`.
        assert_eq!(
            candidate_program("```python\ndef addition(a):\n    pass\n```", prompt, "add"),
            Err(Reject::NoEntryPoint)
        );
    }

    #[test]
    fn without_an_entry_point_the_first_block_or_the_text_is_the_program() {
        let chat =
            "Here:\n```python\nx = int(input())\nprint(x * 2)\n```\n```python\nprint(0)\n```";
        assert_eq!(
            candidate_program(chat, "", "").unwrap(),
            "x = int(input())\nprint(x * 2)"
        );
        assert_eq!(
            candidate_program("print(1)\n", "", "").unwrap(),
            "print(1)\n"
        );
        assert_eq!(candidate_program(" \n", "", ""), Err(Reject::Empty));
    }

    #[test]
    fn coderm_extraction_keeps_one_class_and_strips_imports_and_main() {
        let text = "Here you go:\n```python\nimport unittest\nfrom your_module import add\nfrom solution import add\n\nclass TestAdd(unittest.TestCase):\n    def test_a(self):\n        # adds\n        self.assertEqual(add(1, 2), 3)\n\nif __name__ == '__main__':\n    unittest.main()\n```\nDone.";
        let t = coderm_unittest(text, "add").unwrap();
        assert!(t.contains("class TestAdd(unittest.TestCase):"));
        assert!(!t.contains("your_module") && !t.contains("from solution"));
        assert!(!t.contains("__main__") && !t.contains("unittest.main()"));
        assert!(t.contains("import unittest"));
    }

    #[test]
    fn coderm_extraction_rejects_with_reasons() {
        assert_eq!(coderm_unittest("no code", "f"), Err(Reject::NoCodeBlock));
        let two = "```python\nclass A(unittest.TestCase):\n    pass\n```\n```python\nx = 1\n```";
        assert_eq!(coderm_unittest(two, "f"), Err(Reject::SeveralCodeBlocks));
        let classes = "```python\nclass A(unittest.TestCase):\n    pass\nclass B(unittest.TestCase):\n    pass\n```";
        assert_eq!(coderm_unittest(classes, "f"), Err(Reject::SeveralClasses));
        assert_eq!(
            coderm_unittest("```python\nassert f(1) == 2\n```", "f"),
            Err(Reject::NoTestClass)
        );
    }

    #[test]
    fn codet_split_keeps_asserts_that_call_the_entry_point() {
        let completion = "f(1) == 2\nassert f(2) == 3\nassert g(1) == 0\nassert f(3) == 4\n\ndef other():\n    pass";
        let pieces = codet_pieces(completion, "f");
        assert_eq!(
            pieces,
            vec![
                Ok("assert f(1) == 2".to_string()),
                Ok("assert f(2) == 3".to_string()),
                Err(Reject::NoAssert),
                Ok("assert f(3) == 4".to_string()),
            ]
        );
    }

    #[test]
    fn completions_are_cut_at_the_first_stop_sequence() {
        assert_eq!(
            cut_at_stop("    return 1\n\nif x:\n    y\ndef g(): pass"),
            "    return 1\n"
        );
        assert_eq!(cut_at_stop("    return 1\n"), "    return 1\n");
    }
}
