//! Honest numbers from verdict matrices and ground truth: vanilla, oracle,
//! each rule's best-of-N accuracy, bootstrap over which tests (or
//! candidates) are used, and test quality against ground truth.

use crate::select::{PassMatrix, Rule};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// One problem's matrix with the ground-truth label of each row.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Verdicts.
    pub matrix: PassMatrix,
    /// `labels[i]`: row `i` is correct.
    pub labels: Vec<bool>,
    /// Columns each test generation gave, in the order they were bought
    /// (summing to `matrix.cols()`). Test budgets count generations, not
    /// columns: one CodeT sample yields up to five asserts, and a
    /// generation that yielded nothing usable still cost a model call.
    pub generations: Vec<usize>,
}

impl Task {
    /// Columns given by the first `k` generations.
    pub fn columns_of(&self, k: usize) -> usize {
        self.generations.iter().take(k).sum()
    }

    /// The matrix restricted to the tests of the first `k` generations.
    pub fn first_generations(&self, k: usize) -> PassMatrix {
        let rows: Vec<usize> = (0..self.matrix.rows()).collect();
        let cols: Vec<usize> = (0..self.columns_of(k).min(self.matrix.cols())).collect();
        self.matrix.select(&rows, &cols)
    }
}

/// Mean over tasks of the fraction of correct candidates (a random pick).
pub fn vanilla(tasks: &[Task]) -> f64 {
    mean(tasks.iter().map(|t| frac(&t.labels)))
}

/// Fraction of tasks with at least one correct candidate (pass@N).
pub fn oracle(tasks: &[Task]) -> f64 {
    mean(
        tasks
            .iter()
            .map(|t| f64::from(u8::from(t.labels.iter().any(|&l| l)))),
    )
}

/// Mean over tasks of the rule's expected correctness.
pub fn accuracy(rule: Rule, tasks: &[Task]) -> f64 {
    mean(tasks.iter().map(|t| rule.score(&t.matrix, &t.labels)))
}

pub(crate) fn frac(labels: &[bool]) -> f64 {
    if labels.is_empty() {
        0.0
    } else {
        labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64
    }
}

pub(crate) fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// A bootstrap estimate: the mean over repeats and a 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean over repeats.
    pub mean: f64,
    /// 2.5th percentile.
    pub lo: f64,
    /// 97.5th percentile.
    pub hi: f64,
}

pub(crate) fn estimate(mut values: Vec<f64>) -> Estimate {
    values.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        if values.is_empty() {
            return 0.0;
        }
        let i = ((values.len() - 1) as f64 * q).round() as usize;
        values[i]
    };
    Estimate {
        mean: mean(values.iter().copied()),
        lo: pick(0.025),
        hi: pick(0.975),
    }
}

/// Which axis a bootstrap subsamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Distinct tests (all sampled copies of a drawn test come along).
    Tests,
    /// Candidate rows.
    Candidates,
}

/// Accuracy of `rule` when each task keeps only `k` tests (or candidates)
/// drawn without replacement, over `repeats` seeded draws. Tasks with fewer
/// than `k` keep all.
pub fn bootstrap(
    rule: Rule,
    tasks: &[Task],
    axis: Axis,
    k: usize,
    repeats: usize,
    seed: u64,
) -> Estimate {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let acc = mean(tasks.iter().map(|t| score_at(rule, t, axis, k, &mut rng)));
        values.push(acc);
    }
    estimate(values)
}

/// `rule`'s score on one task when it keeps only `k` tests (or
/// candidates) drawn without replacement by `rng`; all of them when it
/// has no more than `k`.
pub(crate) fn score_at(rule: Rule, t: &Task, axis: Axis, k: usize, rng: &mut ChaCha8Rng) -> f64 {
    let m = &t.matrix;
    match axis {
        Axis::Tests => {
            let keys = m.distinct_cols();
            let mut keep = vec![false; m.col_key.iter().max().map_or(0, |&k| k + 1)];
            if keys.len() <= k {
                keep.iter_mut().for_each(|x| *x = true);
            } else {
                for x in sample(rng, keys.len(), k) {
                    keep[m.col_key[keys[x]]] = true;
                }
            }
            let cols: Vec<usize> = (0..m.cols()).filter(|&j| keep[m.col_key[j]]).collect();
            let rows: Vec<usize> = (0..m.rows()).collect();
            rule.score(&m.select(&rows, &cols), &t.labels)
        }
        Axis::Candidates => {
            let rows: Vec<usize> = if m.rows() <= k {
                (0..m.rows()).collect()
            } else {
                let mut r = sample(rng, m.rows(), k).into_vec();
                r.sort_unstable();
                r
            };
            let cols: Vec<usize> = (0..m.cols()).collect();
            let labels: Vec<bool> = rows.iter().map(|&i| t.labels[i]).collect();
            rule.score(&m.select(&rows, &cols), &labels)
        }
    }
}

/// Counts of accept/reject decisions against ground truth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// Correct and accepted.
    pub tp: u64,
    /// Wrong and rejected.
    pub tn: u64,
    /// Wrong and accepted.
    pub fp: u64,
    /// Correct and rejected.
    pub fn_: u64,
}

/// Quality figures, as the CodeRM paper defines them and as textbooks do.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    /// (TP + TN) / all.
    pub acc: f64,
    /// 2TP / (2TP + FP + FN).
    pub f1: f64,
    /// The paper's false acceptance rate: FP / (FP + TP).
    pub far: f64,
    /// The paper's false rejection rate: FN / (FN + TN).
    pub frr: f64,
    /// Textbook false positive rate: FP / (FP + TN).
    pub fpr: f64,
    /// Textbook false negative rate: FN / (FN + TP).
    pub fnr: f64,
}

impl Confusion {
    /// Adds one decision.
    pub fn add(&mut self, correct: bool, accepted: bool) {
        match (correct, accepted) {
            (true, true) => self.tp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
        }
    }

    /// The quality figures (0 where a denominator is 0).
    pub fn quality(&self) -> Quality {
        let d = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (tp, tn, fp, fn_) = (self.tp, self.tn, self.fp, self.fn_);
        Quality {
            acc: d(tp + tn, tp + tn + fp + fn_),
            f1: d(2 * tp, 2 * tp + fp + fn_),
            far: d(fp, fp + tp),
            frr: d(fn_, fn_ + tn),
            fpr: d(fp, fp + tn),
            fnr: d(fn_, fn_ + tp),
        }
    }
}

/// Each single test as a classifier (accepts the candidates that pass it),
/// pooled over all tests and tasks.
pub fn per_test_quality(tasks: &[Task]) -> Confusion {
    let mut c = Confusion::default();
    for t in tasks {
        for j in t.matrix.distinct_cols() {
            for (i, row) in t.matrix.pass.iter().enumerate() {
                c.add(t.labels[i], row[j]);
            }
        }
    }
    c
}

/// The vote as a classifier: a candidate is accepted iff `rule` selects it.
pub fn vote_quality(rule: Rule, tasks: &[Task]) -> Confusion {
    let mut c = Confusion::default();
    for t in tasks {
        let chosen = rule.select(&t.matrix);
        for (i, &l) in t.labels.iter().enumerate() {
            c.add(l, chosen.contains(&i));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::task;

    #[test]
    fn vanilla_oracle_and_accuracy() {
        let tasks = vec![
            task(&["11", "10"], &[true, false]),
            task(&["01", "00"], &[false, false]),
        ];
        assert_eq!(vanilla(&tasks), 0.25);
        assert_eq!(oracle(&tasks), 0.5);
        assert_eq!(accuracy(Rule::Coderm, &tasks), 0.5);
    }

    #[test]
    fn bootstrap_is_seeded_and_full_size_is_exact() {
        let tasks = vec![task(&["110", "101", "011"], &[true, false, false])];
        let a = bootstrap(Rule::Passcount, &tasks, Axis::Tests, 1, 50, 7);
        let b = bootstrap(Rule::Passcount, &tasks, Axis::Tests, 1, 50, 7);
        assert_eq!(a, b);
        let full = bootstrap(Rule::Coderm, &tasks, Axis::Tests, 3, 5, 1);
        assert_eq!(full.mean, accuracy(Rule::Coderm, &tasks));
        assert!(a.lo <= a.mean && a.mean <= a.hi);
    }

    #[test]
    fn quality_follows_the_papers_definitions() {
        let c = Confusion {
            tp: 6,
            tn: 2,
            fp: 2,
            fn_: 0,
        };
        let q = c.quality();
        assert_eq!(q.acc, 0.8);
        assert_eq!(q.far, 0.25);
        assert_eq!(q.frr, 0.0);
        assert_eq!(q.fpr, 0.5);
    }
}

/// Spearman's rank correlation (average ranks for ties); 0 when either side
/// is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    let n = x.len().min(y.len());
    if n < 2 {
        return 0.0;
    }
    let (rx, ry) = (ranks(&x[..n]), ranks(&y[..n]));
    let mean = (n as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (a, b) = (rx[i] - mean, ry[i] - mean);
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

#[cfg(test)]
mod spearman_tests {
    use super::spearman;

    #[test]
    fn spearman_of_monotone_and_reversed_data() {
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 90.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), 0.0);
    }
}
