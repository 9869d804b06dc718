//! How much a problem's candidates agree in their text: features for
//! predicting the pass rate λ before any test is generated.
//!
//! Samples of a model agree more on problems it can solve: when it knows
//! the answer its samples converge on the same few programs, and when it
//! does not they scatter (the premise of self-consistency, and the reason
//! CodeT's consensus term works). Unlike the paper's probe, which needs a
//! model's hidden states, these features read only the candidates, so they
//! work with any backend, and they cost no test generation, unlike the
//! first-generation pass rate. Measured on the CodeGen-16B HumanEval pool
//! (82 tasks × 100 samples), the mean pairwise Jaccard similarity alone
//! has a Spearman correlation of 0.57 with the true pass rate; the share of
//! distinct programs, −0.45.
//!
//! [`features`] gives both for one problem; [`crate::probe::cross_fit`]
//! turns them into held-out pass-rate predictions.

use std::collections::HashSet;

/// The tokens of a program as a set: identifiers, keywords and numbers
/// (runs of alphanumerics and `_`) and single punctuation characters.
/// Whitespace and line comments (from `comment`, the language's marker, to
/// the end of the line) are dropped, so layout and commentary do not make
/// two programs look different. (A marker inside a string literal also
/// starts a "comment" here: the features are statistics, and the rare
/// such string costs a few tokens, never an error.)
pub fn tokens<'a>(program: &'a str, comment: &str) -> HashSet<&'a str> {
    let mut out = HashSet::new();
    for line in program.lines() {
        let code = uncommented(line, comment);
        let mut start = None;
        for (i, c) in code.char_indices() {
            let word = c.is_alphanumeric() || c == '_';
            match (word, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    out.insert(&code[s..i]);
                    start = None;
                }
                _ => {}
            }
            if !word && !c.is_whitespace() {
                out.insert(&code[i..i + c.len_utf8()]);
            }
        }
        if let Some(s) = start {
            out.insert(&code[s..]);
        }
    }
    out
}

/// The part of a line before its comment marker.
fn uncommented<'a>(line: &'a str, comment: &str) -> &'a str {
    if comment.is_empty() {
        return line;
    }
    line.split(comment).next().unwrap_or("")
}

/// The agreement features of one problem's candidates (one entry per
/// sampled candidate, repeats included, as bodies without the shared
/// prompt): the mean Jaccard similarity of the token sets over all pairs,
/// and the share of distinct programs once whitespace and comments (lines'
/// ends from `comment`, the language's marker) are dropped. With fewer
/// than two candidates there is nothing to compare and both are 1.
pub fn features(candidates: &[&str], comment: &str) -> [f32; 2] {
    let n = candidates.len();
    if n < 2 {
        return [1.0, 1.0];
    }
    let sets: Vec<HashSet<&str>> = candidates.iter().map(|c| tokens(c, comment)).collect();
    let mut sum = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            let union = sets[i].union(&sets[j]).count();
            sum += if union == 0 {
                1.0
            } else {
                sets[i].intersection(&sets[j]).count() as f64 / union as f64
            };
        }
    }
    let jaccard = sum / (n * (n - 1) / 2) as f64;
    let distinct: HashSet<String> = candidates.iter().map(|c| normalized(c, comment)).collect();
    [jaccard as f32, distinct.len() as f32 / n as f32]
}

/// A program without whitespace and comments, so that programs that
/// differ only in layout compare equal.
fn normalized(program: &str, comment: &str) -> String {
    program
        .lines()
        .flat_map(|line| uncommented(line, comment).chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_ignore_layout_and_comments() {
        let a = tokens("    return x+1  # add one\n", "#");
        let b = tokens("return  x + 1", "#");
        assert_eq!(a, b);
        let want: HashSet<&str> = ["return", "x", "+", "1"].into_iter().collect();
        assert_eq!(a, want);
    }

    #[test]
    fn identical_candidates_agree_fully_and_disjoint_ones_not_at_all() {
        let same = features(&["return a + b", "return a+b  # sum", "return a + b"], "#");
        assert_eq!(same, [1.0, 1.0 / 3.0]);
        let apart = features(&["return a", "yield b", "pass"], "#");
        assert_eq!(apart, [0.0, 1.0]);
    }

    #[test]
    fn jaccard_is_the_mean_over_pairs() {
        // {return, a} vs {return, b}: 1/3; each against itself twice over
        // the three pairs of [x, x, y]: (1 + 1/3 + 1/3) / 3.
        let f = features(&["return a", "return a", "return b"], "#");
        assert!((f[0] - 5.0 / 9.0).abs() < 1e-6, "{f:?}");
        assert!((f[1] - 2.0 / 3.0).abs() < 1e-6, "{f:?}");
    }
}
