//! Reading source text just far enough to know where a function ends: a
//! base model's completion continues the prompt, and the program is the
//! prompt plus the completion up to where the prompt's open blocks close.

use codejury_core::Lang;

/// How many `{` blocks are open at the end of `text`, skipping comments
/// and string literals (a C++ doc comment holds `{1, 2}` examples).
pub fn open_braces(lang: Lang, text: &str) -> i64 {
    let mut depth = 0;
    scan(lang, text, |c, _| {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        false
    });
    depth
}

/// The completion of a prompt that left `open` blocks open, cut right
/// after the brace that closes the last of them (the whole completion when
/// it never does).
pub fn cut_braces(lang: Lang, completion: &str, open: i64) -> &str {
    match closing_brace(lang, completion, open) {
        Some(at) => &completion[..at + 1],
        None => completion,
    }
}

/// The byte offset of the brace in `text` that closes the last of `open`
/// blocks open before it, if one does.
pub fn closing_brace(lang: Lang, text: &str, open: i64) -> Option<usize> {
    let mut depth = open;
    let mut end = None;
    scan(lang, text, |c, at| {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth <= 0 {
                    end = Some(at);
                    return true;
                }
            }
            _ => {}
        }
        false
    });
    end
}

/// A Ruby completion cut after the first line that is `end` at the start
/// of a line (how the prompt's `def` is closed in MBXP's layout).
pub fn cut_ruby(completion: &str) -> &str {
    let mut at = 0;
    for line in completion.split_inclusive('\n') {
        at += line.len();
        if line.trim_end() == "end" {
            return &completion[..at];
        }
    }
    completion
}

/// Calls `visit(c, byte_offset)` for every character of code outside
/// comments and strings; stops when it returns true.
fn scan(lang: Lang, text: &str, mut visit: impl FnMut(char, usize) -> bool) {
    let hash_comments = matches!(lang, Lang::Php | Lang::Perl | Lang::Ruby);
    let backtick_strings = matches!(lang, Lang::JavaScript | Lang::TypeScript | Lang::Go);
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '/' if chars.peek().map(|p| p.1) == Some('/') => skip_line(&mut chars),
            '#' if hash_comments => skip_line(&mut chars),
            '/' if chars.peek().map(|p| p.1) == Some('*') => {
                chars.next();
                let mut prev = ' ';
                for (_, d) in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            '"' => skip_string(&mut chars, '"'),
            '`' if backtick_strings => skip_string(&mut chars, '`'),
            // A quote in Perl or Ruby may be a character of a regex or a
            // symbol; counting it as a string could hide a whole function.
            '\'' if !matches!(lang, Lang::Perl | Lang::Ruby) => skip_string(&mut chars, '\''),
            _ => {
                if visit(c, at) {
                    return;
                }
            }
        }
    }
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) {
    for (_, d) in chars.by_ref() {
        if d == '\n' {
            break;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, quote: char) {
    let mut escaped = false;
    for (_, d) in chars.by_ref() {
        if escaped {
            escaped = false;
        } else if d == '\\' {
            escaped = true;
        } else if d == quote || (d == '\n' && quote != '`') {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_in_comments_and_strings_do_not_count() {
        let prompt = "/**\n * > f(vector<int>{1, 2})\n * {3}\n */\nint f(vector<int> v) {\n";
        assert_eq!(open_braces(Lang::Cpp, prompt), 1);
        let completion = "    string s = \"}\";\n    return v[0];\n}\nint main() { }\n";
        assert_eq!(
            cut_braces(Lang::Cpp, completion, 1),
            "    string s = \"}\";\n    return v[0];\n}"
        );
        let java = "class A {\n    public static int f(int x) {\n";
        assert_eq!(open_braces(Lang::Java, java), 2);
        assert_eq!(
            cut_braces(Lang::Java, "        return x;\n    }\n}\nclass B {}", 2),
            "        return x;\n    }\n}"
        );
        assert_eq!(cut_ruby("  x + 1\nend\n\nputs 3\n"), "  x + 1\nend\n");
    }
}
