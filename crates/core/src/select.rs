//! Selection rules: from a problem's pass matrix and ground truth to the
//! expected correctness of the chosen candidate.
//!
//! Every rule returns the set of candidates it would pick from uniformly at
//! random; a problem's score is the mean ground-truth label over that set
//! (the expected accuracy of the pick), as the CodeRM and CodeT evaluation
//! code both score ties.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// One problem's verdicts: `pass[i][j]` for candidate row `i` and test
/// column `j`. Rows and columns are sampled instances: a candidate (or test)
/// sampled twice appears twice, and `row_key`/`col_key` say which rows (or
/// columns) hold identical text, so rules that count duplicates by
/// multiplicity (CodeT) and rules that drop them (CodeRM) both see what they
/// need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassMatrix {
    /// `pass[i][j]`.
    pub pass: Vec<Vec<bool>>,
    /// Content id of each row; equal ids mean identical candidate text.
    pub row_key: Vec<usize>,
    /// Content id of each column; equal ids mean identical test text.
    pub col_key: Vec<usize>,
}

impl PassMatrix {
    /// A matrix whose rows and columns are all distinct.
    pub fn distinct(pass: Vec<Vec<bool>>) -> PassMatrix {
        let n = pass.len();
        let m = pass.first().map_or(0, Vec::len);
        PassMatrix {
            pass,
            row_key: (0..n).collect(),
            col_key: (0..m).collect(),
        }
    }

    /// Number of candidate rows.
    pub fn rows(&self) -> usize {
        self.pass.len()
    }

    /// Number of test columns.
    pub fn cols(&self) -> usize {
        self.col_key.len()
    }

    /// The first column of each distinct test text, in column order.
    pub fn distinct_cols(&self) -> Vec<usize> {
        let mut seen = HashMap::new();
        for (j, k) in self.col_key.iter().enumerate() {
            seen.entry(*k).or_insert(j);
        }
        let mut cols: Vec<usize> = seen.into_values().collect();
        cols.sort_unstable();
        cols
    }

    /// The sub-matrix of the given rows and columns.
    pub fn select(&self, rows: &[usize], cols: &[usize]) -> PassMatrix {
        PassMatrix {
            pass: rows
                .iter()
                .map(|&i| cols.iter().map(|&j| self.pass[i][j]).collect())
                .collect(),
            row_key: rows.iter().map(|&i| self.row_key[i]).collect(),
            col_key: cols.iter().map(|&j| self.col_key[j]).collect(),
        }
    }
}

/// The selection rules codejury implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// CodeRM: most distinct tests passed; ties broken by consistency (the
    /// largest group of top candidates passing the identical test set).
    Coderm,
    /// CodeT as released: consensus sets scored |tests| × sqrt(|solutions|),
    /// duplicates counted by multiplicity.
    Codet,
    /// CodeT as in the paper: |tests| × |solutions|.
    CodetPaper,
    /// MBR-exec on pass signatures: the candidates whose vector of test
    /// outcomes is shared by the most candidates (execution agreement).
    Mbr,
    /// Most distinct tests passed, ties uniform.
    Passcount,
    /// A uniform pick among all candidates (the baseline).
    Random,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 6] = [
        Rule::Coderm,
        Rule::Codet,
        Rule::CodetPaper,
        Rule::Mbr,
        Rule::Passcount,
        Rule::Random,
    ];

    /// The rule's command-line and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Coderm => "coderm",
            Rule::Codet => "codet",
            Rule::CodetPaper => "codet-paper",
            Rule::Mbr => "mbr",
            Rule::Passcount => "passcount",
            Rule::Random => "random",
        }
    }

    /// The rows this rule picks from uniformly (never empty for a
    /// non-empty matrix).
    pub fn select(self, m: &PassMatrix) -> Vec<usize> {
        if m.rows() == 0 {
            return Vec::new();
        }
        match self {
            Rule::Coderm => coderm(m),
            Rule::Codet => codet(m, |t, s| t * s.sqrt()),
            Rule::CodetPaper => codet(m, |t, s| t * s),
            Rule::Mbr => mbr(m),
            Rule::Passcount => argmax(&pass_counts(m)),
            Rule::Random => (0..m.rows()).collect(),
        }
    }

    /// The expected correctness of this rule's pick: the mean label over
    /// the rows it selects.
    pub fn score(self, m: &PassMatrix, labels: &[bool]) -> f64 {
        mean_label(&self.select(m), labels)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown rule name.
#[derive(Debug, thiserror::Error)]
#[error("unknown rule {0:?} (expected coderm, codet, codet-paper, mbr, passcount or random)")]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRule(s.to_string()))
    }
}

/// Mean of `labels` over `rows` (0 for no rows).
pub fn mean_label(rows: &[usize], labels: &[bool]) -> f64 {
    if rows.is_empty() {
        return 0.0;
    }
    rows.iter().filter(|&&i| labels[i]).count() as f64 / rows.len() as f64
}

/// Distinct tests passed, per row.
fn pass_counts(m: &PassMatrix) -> Vec<usize> {
    let cols = m.distinct_cols();
    m.pass
        .iter()
        .map(|row| cols.iter().filter(|&&j| row[j]).count())
        .collect()
}

/// All indices holding the maximum.
fn argmax<T: PartialOrd + Copy>(values: &[T]) -> Vec<usize> {
    let Some(best) = values
        .iter()
        .copied()
        .reduce(|a, b| if b > a { b } else { a })
    else {
        return Vec::new();
    };
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v == best)
        .map(|(i, _)| i)
        .collect()
}

/// Which distinct tests a row passes, as a comparable key.
fn signature(m: &PassMatrix, cols: &[usize], i: usize) -> Vec<bool> {
    cols.iter().map(|&j| m.pass[i][j]).collect()
}

fn coderm(m: &PassMatrix) -> Vec<usize> {
    let top = argmax(&pass_counts(m));
    let cols = m.distinct_cols();
    let mut groups: HashMap<Vec<bool>, usize> = HashMap::new();
    let sigs: Vec<Vec<bool>> = top.iter().map(|&i| signature(m, &cols, i)).collect();
    for s in &sigs {
        *groups.entry(s.clone()).or_default() += 1;
    }
    let consistency: Vec<usize> = sigs.iter().map(|s| groups[s]).collect();
    argmax(&consistency).into_iter().map(|k| top[k]).collect()
}

fn mbr(m: &PassMatrix) -> Vec<usize> {
    let cols = m.distinct_cols();
    let sigs: Vec<Vec<bool>> = (0..m.rows()).map(|i| signature(m, &cols, i)).collect();
    let mut groups: HashMap<&Vec<bool>, usize> = HashMap::new();
    for s in &sigs {
        *groups.entry(s).or_default() += 1;
    }
    let agreement: Vec<usize> = sigs.iter().map(|s| groups[s]).collect();
    argmax(&agreement)
}

/// CodeT's dual agreement. Rows with identical passed-column sets form a
/// consensus set scored `score(|columns passed|, |rows|)`; rows passing no
/// test form none. The rows of every top-scoring set are pooled; with no
/// set at all, every row is (CodeT then falls back to plain pass@k).
fn codet(m: &PassMatrix, score: impl Fn(f64, f64) -> f64) -> Vec<usize> {
    let mut sets: HashMap<Vec<bool>, Vec<usize>> = HashMap::new();
    for i in 0..m.rows() {
        if m.pass[i].iter().any(|&p| p) {
            sets.entry(m.pass[i].clone()).or_default().push(i);
        }
    }
    if sets.is_empty() {
        return (0..m.rows()).collect();
    }
    let scored: Vec<(f64, &Vec<usize>)> = sets
        .iter()
        .map(|(passed, rows)| {
            let tests = passed.iter().filter(|&&p| p).count() as f64;
            (score(tests, rows.len() as f64), rows)
        })
        .collect();
    let best = scored
        .iter()
        .map(|(s, _)| *s)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut rows: Vec<usize> = scored
        .into_iter()
        .filter(|(s, _)| (*s - best).abs() <= 1e-9 * best.abs().max(1.0))
        .flat_map(|(_, r)| r.iter().copied())
        .collect();
    rows.sort_unstable();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::matrix as m;

    #[test]
    fn coderm_breaks_ties_by_consistency() {
        // Rows 0,1,2 pass 2 tests; 0 and 1 pass the same two.
        let x = m(&["110", "110", "011", "100"]);
        assert_eq!(Rule::Coderm.select(&x), vec![0, 1]);
        assert_eq!(Rule::Passcount.select(&x), vec![0, 1, 2]);
        assert_eq!(Rule::Coderm.score(&x, &[true, false, true, true]), 0.5);
    }

    #[test]
    fn codet_weighs_agreement_against_tests() {
        // Set A: 3 tests × 1 solution; set B: 2 tests × 3 solutions.
        let x = m(&["1110", "1100", "1100", "1100", "0000"]);
        // code: A = 3*1 = 3, B = 2*sqrt(3) = 3.46 -> B. paper: A = 3, B = 6 -> B.
        assert_eq!(Rule::Codet.select(&x), vec![1, 2, 3]);
        let y = m(&["1111", "1100", "1100", "0000"]);
        // code: A = 4, B = 2*sqrt(2) = 2.83 -> A; paper: A = 4, B = 4 -> tie, pooled.
        assert_eq!(Rule::Codet.select(&y), vec![0]);
        assert_eq!(Rule::CodetPaper.select(&y), vec![0, 1, 2]);
    }

    #[test]
    fn codet_counts_duplicate_tests_and_falls_back_without_sets() {
        let mut x = m(&["10", "01", "01"]);
        // Column 0 is sampled 3 times (duplicate test text).
        x.pass = vec![
            vec![true, true, true, false],
            vec![false, false, false, true],
            vec![false, false, false, true],
        ];
        x.col_key = vec![0, 0, 0, 1];
        // code: row0 = 3*1 = 3; rows 1,2 = 1*sqrt(2) -> row 0.
        assert_eq!(Rule::Codet.select(&x), vec![0]);
        // CodeRM drops duplicate tests: every row passes 1 distinct test;
        // rows 1,2 agree.
        assert_eq!(Rule::Coderm.select(&x), vec![1, 2]);
        let none = m(&["00", "00"]);
        assert_eq!(Rule::Codet.select(&none), vec![0, 1]);
    }

    #[test]
    fn names_round_trip() {
        for r in Rule::ALL {
            assert_eq!(r.as_str().parse::<Rule>().unwrap(), r);
        }
    }
}
