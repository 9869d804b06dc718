//! Splitting one test program into single-check tests, so that a
//! benchmark's ground truth can serve as a pool of tests (each check its
//! own column of the pass matrix).
//!
//! MBXP's and multilingual HumanEval's tests are one program that runs a
//! few checks in turn and stops at the first failure: `main`'s body in C++,
//! Java and Go, the whole file in the script languages. Each check is the
//! statements that compute one result and fail on it (`if (!compare(...))
//! { throw ... }`, `deepCompare(...)`, `assert.deepEqual(...)`, `die ...
//! unless ...`). The split keeps everything else — helper definitions,
//! imports, the lines after the last check — in every piece, so each piece
//! is the original program with all checks but one removed.

use crate::source;
use codejury_core::Lang;

/// The single-check tests of a test program, in order, or `None` when the
/// program does not have the shape of two or more checks this reads (it is
/// then one test, as written).
pub fn single_checks(lang: Lang, test: &str, entry_point: &str) -> Option<Vec<String>> {
    let (before, region, after) = match lang {
        Lang::Cpp | Lang::Java | Lang::Go => main_body(lang, test)?,
        _ => ("", test, ""),
    };
    let mut shared_head = String::new();
    let mut checks: Vec<String> = Vec::new();
    let mut chunk = String::new();
    let mut tail = String::new();
    let mut depth: i64 = 0;
    let mut in_definition = false;
    for line in region.split_inclusive('\n') {
        if depth == 0 && !in_definition && starts_definition(lang, line) {
            in_definition = true;
        }
        depth += line_depth(lang, line);
        if in_definition {
            if checks.is_empty() {
                shared_head.push_str(line);
            } else {
                tail.push_str(line);
            }
            if depth <= 0 {
                depth = 0;
                in_definition = false;
            }
            continue;
        }
        chunk.push_str(line);
        if depth <= 0 {
            depth = 0;
            if fails_here(lang, &chunk) {
                if !chunk.contains(entry_point) {
                    return None;
                }
                // What came between the last check and this one, if it is
                // not part of a check, is still part of this one (set-up).
                checks.push(std::mem::take(&mut chunk));
            }
        }
    }
    // Lines after the last check (`return 0;`, blank lines) stay in all.
    tail.push_str(&chunk);
    if checks.len() < 2 {
        return None;
    }
    Some(
        checks
            .iter()
            .map(|c| format!("{before}{shared_head}{c}{tail}{after}"))
            .collect(),
    )
}

/// The test split around `main`'s body: (up to and with its opening line,
/// the body, from its closing brace on).
fn main_body(lang: Lang, test: &str) -> Option<(&str, &str, &str)> {
    let sig = match lang {
        Lang::Cpp => "int main(",
        Lang::Java => "public static void main(",
        _ => "func main()",
    };
    let at = test.find(sig)?;
    let open = at + test[at..].find('{')?;
    let body_start = open + 1 + test[open + 1..].find('\n').map_or(0, |n| n + 1);
    // The closing brace's line starts the part after the body.
    let close = open + 1 + source::closing_brace(lang, &test[open + 1..], 1)?;
    let line_start = test[..close].rfind('\n').map_or(0, |n| n + 1);
    if line_start < body_start {
        return None;
    }
    Some((
        &test[..body_start],
        &test[body_start..line_start],
        &test[line_start..],
    ))
}

/// Whether a line at the top level of the region starts a definition every
/// check needs (a helper, an import), not a check.
fn starts_definition(lang: Lang, line: &str) -> bool {
    let t = line.trim_start();
    match lang {
        Lang::JavaScript | Lang::TypeScript => {
            t.starts_with("function ")
                || t.starts_with("import ")
                || (t.starts_with("const ") && t.contains("require("))
        }
        Lang::Php => t.starts_with("function "),
        Lang::Perl => t.starts_with("use ") || t.starts_with("sub "),
        Lang::Ruby => t.starts_with("require") || t.starts_with("def "),
        _ => false,
    }
}

/// How a line changes the nesting: braces outside strings and comments,
/// or Ruby's keywords and `end`.
fn line_depth(lang: Lang, line: &str) -> i64 {
    if lang != Lang::Ruby {
        return source::open_braces(lang, line);
    }
    let t = line.trim();
    let opens = [
        "if ", "unless ", "while ", "until ", "def ", "case ", "begin", "for ",
    ]
    .iter()
    .any(|k| t.starts_with(k))
        || t.ends_with(" do")
        || (t.contains(" do |") && t.ends_with('|'));
    let closes = t == "end" || t.starts_with("end ") || t.starts_with("end.");
    i64::from(opens) - i64::from(closes)
}

/// Whether a complete statement group ends a check: it can fail the test.
fn fails_here(lang: Lang, chunk: &str) -> bool {
    let words: &[&str] = match lang {
        Lang::Cpp | Lang::Java | Lang::Php => &["throw "],
        Lang::JavaScript | Lang::TypeScript => &["assert.", "assert(", "throw "],
        Lang::Go => &["deepCompare(", "panic("],
        Lang::Ruby => &["raise "],
        Lang::Perl => &["die "],
        Lang::Python => &["assert "],
    };
    chunk
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("import "))
        .any(|l| words.iter().any(|w| l.contains(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpp_main_splits_into_one_check_each_with_the_helpers() {
        let test = "\ntemplate <typename T> bool compare(T a, T b){ return a == b; }\n\nint main(int argc, char* argv[]) {\n    int x0 = f(1);\n    if (!(compare(x0, 2))) {\n        throw runtime_error(\"0\");\n    }\n\n    int x1 = f(2);\n    if (!(compare(x1, 3))) {\n        throw runtime_error(\"1\");\n    }\n\n    return 0;\n}\n";
        let pieces = single_checks(Lang::Cpp, test, "f").unwrap();
        assert_eq!(pieces.len(), 2);
        for (i, p) in pieces.iter().enumerate() {
            assert!(p.contains("template <typename T> bool compare"));
            assert!(p.contains(&format!("int x{i} = f(")));
            assert!(!p.contains(&format!("int x{} = f(", 1 - i)));
            assert!(p.trim_end().ends_with("return 0;\n}"), "{p}");
        }
    }

    #[test]
    fn php_checks_without_blank_lines_between_them_split_too() {
        let test = "\nfunction compare($x, $y) {\n    return $x == $y;\n}\n\n$x0 = f(1);\nif (!compare($x0, 2)) {\n    throw new Exception(\"1\");\n}\n$x1 = f(2);\nif (!compare($x1, 3)) {\n    throw new Exception(\"2\");\n}\n";
        let pieces = single_checks(Lang::Php, test, "f").unwrap();
        assert_eq!(pieces.len(), 2);
        assert!(pieces[1].contains("function compare") && pieces[1].contains("$x1 = f(2)"));
        assert!(!pieces[1].contains("$x0"));
    }

    #[test]
    fn go_and_ruby_and_typescript_checks_split() {
        let go = "\nfunc deepCompare(a interface{}, b interface{}, msg string) bool {\n\tif a != b {\n\t\tpanic(msg)\n\t}\n\treturn true\n}\n\nfunc main() {\n\tactual_1 := f(1)\n\texpected_1 := 2\n\tdeepCompare(actual_1, expected_1, \"0\")\n\n\tactual_2 := f(2)\n\texpected_2 := 3\n\tdeepCompare(actual_2, expected_2, \"1\")\n\n}\n";
        let pieces = single_checks(Lang::Go, go, "f").unwrap();
        assert_eq!(pieces.len(), 2);
        assert!(pieces[0].contains("func deepCompare") && !pieces[0].contains("actual_2"));
        let ruby = "\narg00 = 1\nx0 = f(arg00)\nif x0 != 2\n    raise StandardError, \"1\"\nend\n\nx1 = f(2)\nif x1 != 3\n    raise StandardError, \"2\"\nend\n";
        assert_eq!(single_checks(Lang::Ruby, ruby, "f").unwrap().len(), 2);
        let ts = "\nimport * as assert from 'assert'\n\nlet actual_1 = f(1);\nassert.deepEqual(actual_1, 2, \"0\");\n\nlet actual_2 = f(2);\nassert.deepEqual(actual_2, 3, \"1\");\n";
        let pieces = single_checks(Lang::TypeScript, ts, "f").unwrap();
        assert_eq!(pieces.len(), 2);
        assert!(pieces[1].starts_with("import * as assert"), "{}", pieces[1]);
        assert_eq!(
            single_checks(Lang::Ruby, "x0 = f(1)\nraise 'x' if x0 != 2\n", "f"),
            None
        );
    }
}
