//! `scale --folds K`: the online allocator scored on problems its tuning
//! never saw.
//!
//! The allocator has one constant that decides how it ranks problems: the
//! horizon of generations over which it simulates a vote's future. Its
//! default ([`HORIZON`]) and the rest of its design were chosen on the
//! shared CodeGen-16B half, so on that half its curve is in-sample. Here
//! the problems are split into K seeded folds; for each fold the horizon is
//! chosen among [`HORIZONS`] by the mean accuracy over every budget on the
//! other K−1 folds (each run with the same average budget per problem),
//! and the allocator with that horizon is scored on the held-out fold
//! alone. Every problem's score thus comes from a tuning that never saw it.
//! The same choice made on all problems and scored on them is the
//! in-sample figure, reported beside it and labelled so.
//!
//! What cross-fitting cannot undo: the design itself (ranking by gain,
//! topping settled votes up by tests) was chosen by looking at the shared
//! half. Only a pool the project never saw answers for that.

use codejury_core::allocate::{online_snapshots_over, scores_with, HORIZON};
use codejury_core::metrics::Task;
use codejury_core::Rule;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// The horizons the folds choose among.
pub const HORIZONS: [usize; 3] = [5, HORIZON, 20];

/// One budget of the cross-fitted curve.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FoldPoint {
    /// Test generations per problem asked for.
    pub budget: usize,
    /// Accuracy with each fold's horizon chosen on the other folds.
    pub held_out: f64,
    /// Accuracy with the horizon chosen on all problems and scored on them
    /// (in-sample, for comparison only).
    pub in_sample: f64,
}

/// The online allocator's cross-fitted curve.
#[derive(Debug, Clone, Serialize)]
pub struct OnlineFolds {
    /// Folds.
    pub folds: usize,
    /// The horizons chosen from.
    pub horizons: Vec<usize>,
    /// The horizon each fold's training problems chose.
    pub chosen: Vec<usize>,
    /// The horizon all problems choose (in-sample).
    pub chosen_in_sample: usize,
    /// The curve.
    pub points: Vec<FoldPoint>,
    /// Each problem's held-out score at each budget (averaged over
    /// shuffles), for the difficulty table.
    #[serde(skip)]
    pub per_task: Vec<Vec<f64>>,
}

/// Per budget, each of `idx`'s problems' scores summed over `shuffles`
/// under online with `horizon`, each shuffle's budget being `budgets`
/// generations per problem of `idx` on average.
fn scores(
    shuffles: &[Vec<Task>],
    idx: &[usize],
    budgets: &[usize],
    rule: Rule,
    seed: u64,
    horizon: usize,
) -> Vec<Vec<f64>> {
    let totals: Vec<usize> = budgets.iter().map(|&b| b * idx.len()).collect();
    let mut out = vec![vec![0.0; idx.len()]; budgets.len()];
    for ts in shuffles {
        let sub: Vec<Task> = idx.iter().map(|&i| ts[i].clone()).collect();
        for (k, b) in online_snapshots_over(&sub, &totals, rule, seed, horizon)
            .iter()
            .enumerate()
        {
            for (sum, s) in out[k].iter_mut().zip(scores_with(&sub, b, rule)) {
                *sum += s;
            }
        }
    }
    out
}

/// The horizon of [`HORIZONS`] with the best mean score over all budgets
/// on `idx`'s problems (the first of equals).
fn best_horizon(
    shuffles: &[Vec<Task>],
    idx: &[usize],
    budgets: &[usize],
    rule: Rule,
    seed: u64,
) -> (usize, Vec<Vec<f64>>) {
    let mut best: Option<(f64, usize, Vec<Vec<f64>>)> = None;
    for h in HORIZONS {
        let s = scores(shuffles, idx, budgets, rule, seed, h);
        let total: f64 = s.iter().flatten().sum();
        if best.as_ref().is_none_or(|(b, _, _)| total > *b + 1e-9) {
            best = Some((total, h, s));
        }
    }
    best.map_or((HORIZON, Vec::new()), |(_, h, s)| (h, s))
}

/// Cross-fits the online allocator's horizon over `folds` seeded folds of
/// the problems of `shuffles` (each shuffle a whole pool in one buying
/// order); `None` for fewer than two folds or problems.
pub fn online_folds(
    shuffles: &[Vec<Task>],
    budgets: &[usize],
    rule: Rule,
    seed: u64,
    folds: usize,
) -> Option<OnlineFolds> {
    let n = shuffles.first()?.len();
    if folds < 2 || n < folds {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0xf01d));
    let r = shuffles.len() as f64;
    let mut per_task = vec![vec![0.0; n]; budgets.len()];
    let mut chosen = Vec::with_capacity(folds);
    for f in 0..folds {
        let test: Vec<usize> = order.iter().copied().skip(f).step_by(folds).collect();
        let train: Vec<usize> = (0..n).filter(|i| !test.contains(i)).collect();
        let (h, _) = best_horizon(shuffles, &train, budgets, rule, seed);
        chosen.push(h);
        let held = scores(shuffles, &test, budgets, rule, seed, h);
        for (k, row) in held.iter().enumerate() {
            for (&i, s) in test.iter().zip(row) {
                per_task[k][i] = s / r;
            }
        }
    }
    let all: Vec<usize> = (0..n).collect();
    let (chosen_in_sample, in_sample) = best_horizon(shuffles, &all, budgets, rule, seed);
    let points = budgets
        .iter()
        .enumerate()
        .map(|(k, &budget)| FoldPoint {
            budget,
            held_out: per_task[k].iter().sum::<f64>() / n as f64,
            in_sample: in_sample[k].iter().sum::<f64>() / (n as f64 * r),
        })
        .collect();
    Some(OnlineFolds {
        folds,
        horizons: HORIZONS.to_vec(),
        chosen,
        chosen_in_sample,
        points,
        per_task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use codejury_core::select::PassMatrix;

    fn task(correct_passes_all: bool, n: usize) -> Task {
        // Row 0 correct; tests: row 0 passes all, others pass half.
        let pass: Vec<Vec<bool>> = (0..n)
            .map(|r| {
                (0..6)
                    .map(|j| r == 0 && correct_passes_all || (r + j) % 2 == 0)
                    .collect()
            })
            .collect();
        Task {
            matrix: PassMatrix::distinct(pass),
            labels: (0..n).map(|r| r == 0).collect(),
            generations: vec![1; 6],
        }
    }

    #[test]
    fn every_problem_is_scored_by_a_fold_that_did_not_choose_for_it() {
        let tasks: Vec<Task> = (0..10).map(|i| task(i % 3 != 0, 4 + i % 3)).collect();
        let shuffles = vec![tasks.clone(), tasks];
        let budgets = [1, 2, 6];
        let f = online_folds(&shuffles, &budgets, Rule::Coderm, 7, 5).unwrap();
        assert_eq!(f.chosen.len(), 5);
        assert!(f.chosen.iter().all(|h| HORIZONS.contains(h)));
        assert_eq!(f.points.len(), 3);
        // At the full budget every allocation buys everything: held-out
        // and in-sample are the same full-pool vote.
        let full = f.points[2];
        assert!((full.held_out - full.in_sample).abs() < 1e-12, "{full:?}");
        assert!(online_folds(&shuffles, &budgets, Rule::Coderm, 7, 1).is_none());
    }
}
