//! Cutting candidates and tests out of what a model wrote, for the process
//! languages: fenced blocks of the right language, and the prompt's
//! preamble (includes, imports, `package main`, `<?php`) put back in front
//! of a chat model's function so the program builds as MBXP's would.

use crate::source;
use codejury_core::discard::Reject;
use codejury_core::{Lang, Problem};

/// The fence tags a language's blocks carry (an untagged block counts too).
pub fn fence_tags(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Python => &["python", "py"],
        Lang::JavaScript => &["javascript", "js", "node"],
        Lang::TypeScript => &["typescript", "ts"],
        Lang::Cpp => &["cpp", "c++", "cc", "cxx"],
        Lang::Java => &["java"],
        Lang::Go => &["go", "golang"],
        Lang::Php => &["php"],
        Lang::Ruby => &["ruby", "rb"],
        Lang::Perl => &["perl", "pl"],
    }
}

/// The fenced blocks of `text` in `lang` (or untagged), in order.
pub fn code_blocks(lang: Lang, text: &str) -> Vec<String> {
    let tags = fence_tags(lang);
    let mut out = Vec::new();
    let mut current: Option<(bool, String)> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        match current.take() {
            None => {
                if let Some(tag) = trimmed.strip_prefix("```") {
                    let tag = tag.trim().to_ascii_lowercase();
                    current = Some((
                        tag.is_empty() || tags.contains(&tag.as_str()),
                        String::new(),
                    ));
                }
            }
            Some((keep, mut body)) => {
                if trimmed == "```" {
                    if keep {
                        out.push(body);
                    }
                } else {
                    body.push_str(line);
                    current = Some((keep, body));
                }
            }
        }
    }
    out
}

/// Whether a line of the prompt is preamble a program needs before any
/// function: includes, imports, a package clause, PHP's opening tag.
fn is_preamble(lang: Lang, line: &str) -> bool {
    let t = line.trim_start();
    match lang {
        Lang::Cpp => t.starts_with("#include") || t.starts_with("using namespace"),
        Lang::Java => t.starts_with("import "),
        Lang::JavaScript | Lang::TypeScript => {
            t.starts_with("import ") || (t.starts_with("const ") && t.contains("require("))
        }
        Lang::Php => t.starts_with("<?php"),
        Lang::Perl => t.starts_with("use "),
        Lang::Ruby => t.starts_with("require"),
        Lang::Go | Lang::Python => false,
    }
}

/// Go's `package` clause and import declarations, split from the rest.
fn go_split(text: &str) -> (Vec<String>, String) {
    let mut imports = Vec::new();
    let mut rest = String::new();
    let mut in_block = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if in_block {
            if t.starts_with(')') {
                in_block = false;
            } else if !t.is_empty() && !t.starts_with("//") {
                imports.push(t.to_string());
            }
            continue;
        }
        if t.starts_with("package ") {
            continue;
        }
        if let Some(spec) = t.strip_prefix("import") {
            let spec = spec.trim();
            if spec.starts_with('(') {
                in_block = !spec.contains(')');
                let inner = spec.trim_start_matches('(').trim_end_matches(')').trim();
                if !inner.is_empty() {
                    imports.push(inner.to_string());
                }
            } else if !spec.is_empty() {
                imports.push(spec.to_string());
            }
            continue;
        }
        rest.push_str(line);
    }
    (imports, rest)
}

/// A Go program from pieces: one package clause, the union of their
/// imports, then each piece's code.
fn go_program(pieces: &[&str]) -> String {
    let mut imports: Vec<String> = Vec::new();
    let mut body = String::new();
    for piece in pieces {
        let (imp, rest) = go_split(piece);
        for i in imp {
            if !imports.contains(&i) {
                imports.push(i);
            }
        }
        body.push_str(&rest);
        body.push('\n');
    }
    let mut out = String::from("package main\n\n");
    if !imports.is_empty() {
        out.push_str("import (\n");
        for i in &imports {
            out.push_str(&format!("\t{i}\n"));
        }
        out.push_str(")\n");
    }
    out + &body
}

/// The candidate program in a chat answer: the first block of the
/// language that names the entry point, with the prompt's preamble in
/// front (Java: inside the prompt's class when the block is a bare
/// method).
pub fn candidate_program(lang: Lang, text: &str, problem: &Problem) -> Result<String, Reject> {
    let blocks = code_blocks(lang, text);
    if blocks.is_empty() {
        return Err(Reject::NoCodeBlock);
    }
    let entry = problem.entry_point.as_str();
    let block = blocks
        .iter()
        .find(|b| entry.is_empty() || b.contains(entry))
        .ok_or(Reject::NoEntryPoint)?;
    if block.trim().is_empty() {
        return Err(Reject::Empty);
    }
    Ok(with_preamble(lang, &problem.prompt, block))
}

/// `block` made a whole program with what `prompt` declares first.
pub fn with_preamble(lang: Lang, prompt: &str, block: &str) -> String {
    if lang == Lang::Go {
        return go_program(&[prompt_preamble_go(prompt).as_str(), block]);
    }
    let mut out = String::new();
    for line in prompt.lines().filter(|l| is_preamble(lang, l)) {
        if !block.contains(line.trim()) {
            out.push_str(line);
            out.push('\n');
        }
    }
    match lang {
        Lang::Php if !block.contains("<?php") && !out.contains("<?php") => {
            out.insert_str(0, "<?php\n");
        }
        Lang::Java if !block.contains("class ") => {
            let class = prompt
                .lines()
                .find(|l| {
                    l.trim_start().starts_with("class ")
                        || l.trim_start().starts_with("public class ")
                })
                .unwrap_or("class Solution {");
            return format!(
                "{out}{}\n{block}\n}}\n",
                class.replacen("public class", "class", 1)
            );
        }
        Lang::Java => {
            // Main.java may declare no other public class.
            let fixed: String = block
                .split_inclusive('\n')
                .map(|l| match l.strip_prefix("public class ") {
                    Some(rest) => format!("class {rest}"),
                    None => l.to_string(),
                })
                .collect();
            return format!("{out}{fixed}");
        }
        _ => {}
    }
    out + block
}

/// The package clause and imports of a Go prompt.
fn prompt_preamble_go(prompt: &str) -> String {
    let (imports, _) = go_split(prompt);
    imports.iter().map(|i| format!("import {i}\n")).collect()
}

/// The program a base model's continuation of the prompt makes: the
/// prompt, then the completion up to where the prompt's function closes.
pub fn continuation(lang: Lang, prompt: &str, completion: &str) -> String {
    let body = match lang {
        Lang::Ruby => source::cut_ruby(completion),
        _ => {
            let open = source::open_braces(lang, prompt);
            if open > 0 {
                source::cut_braces(lang, completion, open)
            } else {
                completion
            }
        }
    };
    format!("{prompt}{body}")
}

/// The test program in a tester's answer: exactly one block of the
/// language that calls the entry point, less what cannot follow the
/// candidate in one file (a Go package clause, a second `<?php`).
pub fn test_program(
    lang: Lang,
    text: &str,
    entry_point: &str,
    raw: bool,
) -> Result<String, Reject> {
    let candidates: Vec<String> = if raw {
        vec![text.to_string()]
    } else {
        let blocks = code_blocks(lang, text);
        if blocks.is_empty() {
            return Err(Reject::NoCodeBlock);
        }
        blocks
    };
    let calling: Vec<&String> = candidates
        .iter()
        .filter(|b| b.contains(entry_point))
        .collect();
    let block = match calling.as_slice() {
        [] => return Err(Reject::NoAssert),
        [one] => one.as_str(),
        _ => return Err(Reject::SeveralCodeBlocks),
    };
    if block.trim().is_empty() {
        return Err(Reject::Empty);
    }
    Ok(match lang {
        // The harness moves a Go test's imports up to the candidate's.
        Lang::Go => block
            .lines()
            .filter(|l| !l.trim_start().starts_with("package "))
            .map(|l| format!("{l}\n"))
            .collect(),
        Lang::Php => block.replacen("<?php", "", 1),
        _ => block.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(prompt: &str, entry: &str) -> Problem {
        Problem {
            task_id: "T/1".into(),
            prompt: prompt.into(),
            entry_point: entry.into(),
            reference: None,
        }
    }

    #[test]
    fn a_chat_answer_gets_the_prompts_preamble() {
        let p = problem(
            "#include <bits/stdc++.h>\nusing namespace std;\n/** doc */\nint add(int a, int b) {\n",
            "add",
        );
        let text =
            "Here:\n```cpp\nint add(int a, int b) { return a + b; }\n```\n```python\nadd=1\n```";
        let prog = candidate_program(Lang::Cpp, text, &p).unwrap();
        assert!(prog.starts_with("#include <bits/stdc++.h>\nusing namespace std;\n"));
        assert!(prog.ends_with("return a + b; }\n"));
        assert_eq!(
            candidate_program(Lang::Cpp, "no code", &p),
            Err(Reject::NoCodeBlock)
        );
        assert_eq!(
            candidate_program(Lang::Cpp, "```cpp\nint sub() {}\n```", &p),
            Err(Reject::NoEntryPoint)
        );
    }

    #[test]
    fn go_programs_have_one_package_clause_and_merged_imports() {
        let prompt = "package main\n\nimport (\n\t\"encoding/json\"\n\t\"reflect\"\n)\n// doc\nfunc add(a int, b int) int {\n";
        let block =
            "package main\n\nimport \"sort\"\n\nfunc add(a int, b int) int { return a + b }\n";
        let prog = candidate_program(
            Lang::Go,
            &format!("```go\n{block}```"),
            &problem(prompt, "add"),
        )
        .unwrap();
        assert_eq!(prog.matches("package main").count(), 1);
        for i in ["\"encoding/json\"", "\"reflect\"", "\"sort\""] {
            assert_eq!(prog.matches(i).count(), 1, "{prog}");
        }
    }

    #[test]
    fn a_bare_java_method_goes_inside_the_prompts_class() {
        let prompt = "import java.util.*;\n\n\nclass Add {\n    /** doc */\n    public static int add(int a, int b) {\n";
        let text = "```java\npublic static int add(int a, int b) { return a + b; }\n```";
        let prog = candidate_program(Lang::Java, text, &problem(prompt, "add")).unwrap();
        assert!(
            prog.starts_with("import java.util.*;\nclass Add {\n"),
            "{prog}"
        );
        assert!(prog.trim_end().ends_with('}'));
        let whole = "```java\npublic class Add { public static int add(int a, int b) { return a + b; } }\n```";
        let prog = candidate_program(Lang::Java, whole, &problem(prompt, "add")).unwrap();
        assert!(prog.contains("\nclass Add {"), "{prog}");
    }

    #[test]
    fn continuations_stop_where_the_function_closes() {
        let prompt = "function add(a, b) {\n";
        assert_eq!(
            continuation(
                Lang::JavaScript,
                prompt,
                "  return a + b;\n}\n\nconsole.log(add(1, 2));\n"
            ),
            "function add(a, b) {\n  return a + b;\n}"
        );
        assert_eq!(
            continuation(
                Lang::Ruby,
                "def add(a, b)\n",
                "  a + b\nend\nputs add(1, 2)\n"
            ),
            "def add(a, b)\n  a + b\nend\n"
        );
    }

    #[test]
    fn a_test_program_is_one_block_calling_the_entry_point() {
        let text = "```javascript\nconst assert = require('assert');\n// one\nassert.equal(add(1, 2), 3);\n```";
        assert!(test_program(Lang::JavaScript, text, "add", false)
            .unwrap()
            .contains("assert.equal"));
        assert_eq!(
            test_program(Lang::JavaScript, "```js\nx()\n```", "add", false),
            Err(Reject::NoAssert)
        );
        let two = format!("{text}\n{text}");
        assert_eq!(
            test_program(Lang::JavaScript, &two, "add", false),
            Err(Reject::SeveralCodeBlocks)
        );
        let go = "```go\npackage main\nimport \"fmt\"\nfunc main() { if add(1, 2) != 3 { panic(\"x\") } }\n```";
        let t = test_program(Lang::Go, go, "add", false).unwrap();
        assert!(
            !t.contains("package") && t.contains("import \"fmt\""),
            "{t}"
        );
    }
}
