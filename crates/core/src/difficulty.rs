//! Difficulty: problems split into bands (quintiles by default) by the
//! policy's pass rate, and per band what the vote gains over a random pick
//! as the tests per problem grow. The CodeRM paper's claim that scaling
//! tests helps harder problems more is a claim about this table.
//!
//! Intervals come from a bootstrap that redraws both the band's problems
//! (with replacement) and each problem's `k` tests (without), so they
//! cover which problems happened to land in the band as well as which
//! tests happened to be sampled.

use crate::metrics::{estimate, frac, mean, score_at, Axis, Estimate, Task};
use crate::select::Rule;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// One rule's accuracy and gain over vanilla at `k` tests per problem.
#[derive(Debug, Clone, Serialize)]
pub struct GainPoint {
    /// Tests per problem.
    pub k: usize,
    /// The rule's accuracy in the band.
    pub accuracy: Estimate,
    /// Accuracy minus the band's vanilla (a random pick), paired per problem.
    pub gain: Estimate,
}

/// One band of problems of similar difficulty.
#[derive(Debug, Clone, Serialize)]
pub struct Band {
    /// 1 for the hardest band.
    pub band: usize,
    /// Problems in it.
    pub tasks: usize,
    /// The lowest and highest pass rate (fraction of correct candidates)
    /// of its problems.
    pub pass_rate_lo: f64,
    /// See `pass_rate_lo`.
    pub pass_rate_hi: f64,
    /// Mean pass rate: a random pick's accuracy.
    pub vanilla: f64,
    /// Problems with a correct candidate.
    pub oracle: f64,
    /// Per rule (by name), the curve over `k`.
    pub curves: Vec<(String, Vec<GainPoint>)>,
}

/// Problem indices in `count` bands of near-equal size, hardest (lowest
/// pass rate) first; ties keep input order, so the split is deterministic.
pub fn split(tasks: &[Task], count: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by(|&a, &b| frac(&tasks[a].labels).total_cmp(&frac(&tasks[b].labels)));
    let count = count.clamp(1, tasks.len().max(1));
    (0..count)
        .map(|b| order[b * order.len() / count..(b + 1) * order.len() / count].to_vec())
        .filter(|band| !band.is_empty())
        .collect()
}

/// The lowest and highest pass rate (fraction of correct candidates) of
/// the problems `members`.
pub fn pass_rate_range(tasks: &[Task], members: &[usize]) -> (f64, f64) {
    members
        .iter()
        .map(|&i| frac(&tasks[i].labels))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(r), hi.max(r))
        })
}

/// The difficulty table: `count` bands, each with every rule's accuracy
/// and gain over vanilla at each `k`, from `repeats` seeded draws.
pub fn difficulty(
    tasks: &[Task],
    rules: &[Rule],
    ks: &[usize],
    count: usize,
    repeats: usize,
    seed: u64,
) -> Vec<Band> {
    split(tasks, count)
        .into_iter()
        .enumerate()
        .map(|(b, members)| {
            let (pass_rate_lo, pass_rate_hi) = pass_rate_range(tasks, &members);
            let curves = rules
                .iter()
                .map(|&rule| {
                    let points = ks
                        .iter()
                        .map(|&k| {
                            let mut rng =
                                ChaCha8Rng::seed_from_u64(seed ^ ((b as u64) << 32) ^ k as u64);
                            let mut acc = Vec::with_capacity(repeats);
                            let mut gain = Vec::with_capacity(repeats);
                            for _ in 0..repeats.max(1) {
                                let mut a = 0.0;
                                let mut g = 0.0;
                                for _ in 0..members.len() {
                                    let t = &tasks[members[rng.random_range(0..members.len())]];
                                    let s = score_at(rule, t, Axis::Tests, k, &mut rng);
                                    a += s;
                                    g += s - frac(&t.labels);
                                }
                                acc.push(a / members.len() as f64);
                                gain.push(g / members.len() as f64);
                            }
                            GainPoint {
                                k,
                                accuracy: estimate(acc),
                                gain: estimate(gain),
                            }
                        })
                        .collect();
                    (rule.as_str().to_string(), points)
                })
                .collect();
            Band {
                band: b + 1,
                tasks: members.len(),
                pass_rate_lo,
                pass_rate_hi,
                vanilla: mean(members.iter().map(|&i| frac(&tasks[i].labels))),
                oracle: mean(
                    members
                        .iter()
                        .map(|&i| f64::from(u8::from(tasks[i].labels.contains(&true)))),
                ),
                curves,
            }
        })
        .collect()
}

/// The mean over `members` of `a[i] - b[i]` (two methods' per-problem
/// scores, paired), with an interval from `repeats` draws of the members
/// with replacement.
pub fn paired_gain(a: &[f64], b: &[f64], members: &[usize], repeats: usize, seed: u64) -> Estimate {
    if members.is_empty() {
        return estimate(Vec::new());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let draws = (0..repeats.max(1))
        .map(|_| {
            let sum: f64 = (0..members.len())
                .map(|_| {
                    let i = members[rng.random_range(0..members.len())];
                    a[i] - b[i]
                })
                .sum();
            sum / members.len() as f64
        })
        .collect();
    let mut e = estimate(draws);
    // The point estimate is the band's own mean, not the draws'.
    e.mean = mean(members.iter().map(|&i| a[i] - b[i]));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::PassMatrix;

    /// A task of `n` candidates, the first `good` correct, where `tests`
    /// tests each pass exactly the correct ones (a perfect test pool).
    fn task(n: usize, good: usize, tests: usize) -> Task {
        let pass = (0..n).map(|i| vec![i < good; tests]).collect();
        Task {
            matrix: PassMatrix::distinct(pass),
            labels: (0..n).map(|i| i < good).collect(),
            generations: vec![1; tests],
        }
    }

    #[test]
    fn bands_are_ordered_hardest_first_and_cover_every_task_once() {
        let tasks: Vec<Task> = [3, 0, 9, 1, 5, 7, 2, 8, 4, 6]
            .iter()
            .map(|&g| task(10, g, 4))
            .collect();
        let bands = split(&tasks, 5);
        assert_eq!(bands.len(), 5);
        let mut all: Vec<usize> = bands.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(bands[0], vec![1, 3]); // pass rates 0.0 and 0.1
        assert_eq!(bands[4], vec![7, 2]); // 0.8 and 0.9
                                          // Fewer tasks than bands: one task a band.
        assert_eq!(split(&tasks[..3], 5).len(), 3);
        assert!(split(&[], 5).is_empty());
    }

    #[test]
    fn perfect_tests_gain_most_where_a_random_pick_is_worst() {
        // Hard problems: 1 of 10 correct; easy: 9 of 10. Perfect tests pick
        // a correct candidate whenever there is one.
        let tasks: Vec<Task> = (0..10)
            .map(|i| {
                if i < 5 {
                    task(10, 1, 4)
                } else {
                    task(10, 9, 4)
                }
            })
            .collect();
        let bands = difficulty(&tasks, &[Rule::Coderm], &[1, 4], 2, 50, 7);
        assert_eq!(bands.len(), 2);
        let (hard, easy) = (&bands[0], &bands[1]);
        assert!((hard.vanilla - 0.1).abs() < 1e-9 && (easy.vanilla - 0.9).abs() < 1e-9);
        let gain = |b: &Band, k: usize| {
            b.curves[0]
                .1
                .iter()
                .find(|p| p.k == k)
                .map(|p| p.gain)
                .unwrap()
        };
        // Every draw gives the same gain here: the interval is a point.
        assert!(
            (gain(hard, 4).mean - 0.9).abs() < 1e-9,
            "{:?}",
            gain(hard, 4)
        );
        assert!((gain(hard, 4).lo - 0.9).abs() < 1e-9);
        assert!((gain(easy, 4).mean - 0.1).abs() < 1e-9);
        assert!((gain(hard, 1).mean - 0.9).abs() < 1e-9);
    }

    #[test]
    fn a_paired_gain_is_the_band_mean_of_the_differences() {
        let a = [1.0, 0.5, 0.0, 1.0];
        let b = [0.0, 0.5, 0.0, 0.0];
        let e = paired_gain(&a, &b, &[0, 1, 3], 100, 3);
        assert!((e.mean - 2.0 / 3.0).abs() < 1e-12);
        assert!(e.lo >= 0.0 && e.hi <= 1.0 && e.lo <= e.mean && e.mean <= e.hi);
        let same = paired_gain(&a, &a, &[0, 1, 2, 3], 10, 3);
        assert_eq!((same.mean, same.lo, same.hi), (0.0, 0.0, 0.0));
    }

    #[test]
    fn intervals_widen_when_a_band_mixes_outcomes() {
        // A band where the vote is right on half the problems and wrong
        // (no correct candidate) on the other half: redrawing problems
        // spreads the estimate.
        let tasks: Vec<Task> = (0..8)
            .map(|i| {
                if i % 2 == 0 {
                    task(4, 1, 3)
                } else {
                    task(4, 0, 3)
                }
            })
            .collect();
        let bands = difficulty(&tasks, &[Rule::Coderm], &[3], 1, 200, 1);
        let p = &bands[0].curves[0].1[0];
        assert!(
            p.accuracy.lo < 0.5 && p.accuracy.hi > 0.5,
            "{:?}",
            p.accuracy
        );
        assert!((p.accuracy.mean - 0.5).abs() < 0.1);
    }
}
