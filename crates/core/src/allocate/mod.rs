//! Spending a budget of test generations across problems.
//!
//! The unit of budget is one test generation. A strategy decides how many
//! generations each problem gets; the vote then runs on the tests of each
//! problem's first `b_i` generations (in a fixed, shuffled order). Strategies:
//!
//! * [`Strategy::Uniform`]: the same number for every problem.
//! * [`Strategy::GreedyOracle`]: the paper's greedy allocation, each next
//!   test to the problem with the largest marginal gain λ(1-λ)^b, with λ the
//!   *true* pass rate of the problem's candidates (an upper bound for the
//!   paper's method: it needs ground truth).
//! * [`Strategy::GreedyAgreement`]: the same greedy with λ predicted without
//!   ground truth, as the fraction of candidates passing the tests of the
//!   problem's first generation (bought from the budget). Works with any
//!   backend.
//! * [`Strategy::GreedyProbe`]: the same greedy with λ from the paper's
//!   probe, a two-layer MLP on a model's hidden state of the problem
//!   ([`crate::probe`]); the caller supplies its held-out predictions.
//! * [`Strategy::GreedySimilarity`]: the same greedy with λ predicted from
//!   how much the problem's candidates agree in their text
//!   ([`crate::agreement`]), by the same MLP: no test and no hidden state
//!   needed, so it works with any backend. The caller supplies the
//!   held-out predictions.
//! * [`Strategy::Online`]: generations bought one at a time, each for the
//!   problem whose vote is most likely to move to a larger group of
//!   candidates within its next [`online::HORIZON`] generations (estimated
//!   from its tests so far and the yield of its generations; see
//!   [`online`]). Settled votes stop taking budget.
//! * [`Strategy::OnlineOracle`]: `online`, except that problems with no
//!   correct candidate take nothing while any other problem can still buy
//!   (an upper bound that needs ground truth). It measures how much of
//!   `online`'s distance to a better allocation is telling unsolvable
//!   problems apart: no test can make their vote right, yet their votes
//!   look as undecided as anyone's.
//!
//! Budgets count test generations ([`Task::generations`]): a generation
//! can yield several tests (CodeT's asserts) or none.

pub mod online;

use crate::metrics::Task;
use crate::select::{PassMatrix, Rule};
pub use online::{
    change_probability, next_purchases, online_snapshots, online_snapshots_deferring,
    online_snapshots_over, outlook, outlook_over, problem_seed, Outlook, Progress, Standing,
    HORIZON,
};
use serde::Serialize;

/// An allocation strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Same tests per problem.
    Uniform,
    /// Paper's greedy with the true pass rate (needs ground truth).
    GreedyOracle,
    /// Paper's greedy with the pass rate predicted from the first generation.
    GreedyAgreement,
    /// Paper's greedy with the pass rate predicted by the hidden-state probe.
    GreedyProbe,
    /// Paper's greedy with the pass rate predicted from the candidates'
    /// agreement in text.
    GreedySimilarity,
    /// One generation at a time to the vote most likely to move to a
    /// larger group.
    Online,
    /// `online` with the problems no candidate solves deferred to last
    /// (needs ground truth).
    OnlineOracle,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 7] = [
        Strategy::Uniform,
        Strategy::GreedyOracle,
        Strategy::GreedyAgreement,
        Strategy::GreedyProbe,
        Strategy::GreedySimilarity,
        Strategy::Online,
        Strategy::OnlineOracle,
    ];

    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Uniform => "uniform",
            Strategy::GreedyOracle => "greedy-oracle",
            Strategy::GreedyAgreement => "greedy-agreement",
            Strategy::GreedyProbe => "greedy-probe",
            Strategy::GreedySimilarity => "greedy-similarity",
            Strategy::Online => "online",
            Strategy::OnlineOracle => "online-oracle",
        }
    }

    /// Generations per problem for a total `budget` of generations;
    /// `tasks[i].generations` is in the order they would be bought.
    /// `predicted` holds the predicted pass rate per problem that
    /// `GreedyProbe` or `GreedySimilarity` spends by (the other strategies
    /// ignore it); without it, they spread the budget uniformly.
    pub fn allocate(
        self,
        tasks: &[Task],
        budget: usize,
        rule: Rule,
        predicted: Option<&[f64]>,
    ) -> Vec<usize> {
        let caps: Vec<usize> = tasks.iter().map(|t| t.generations.len()).collect();
        match self {
            Strategy::Uniform => uniform(&caps, budget),
            Strategy::GreedyOracle => {
                let lambda: Vec<f64> = tasks.iter().map(|t| pass_rate(&t.labels)).collect();
                greedy(&caps, &lambda, vec![0; caps.len()], budget)
            }
            Strategy::GreedyAgreement => {
                // The first generation of every problem is bought to predict λ.
                let start: Vec<usize> = caps.iter().map(|&c| c.min(1)).collect();
                let spent: usize = start.iter().sum();
                if spent > budget {
                    return uniform(&caps, budget);
                }
                let lambda: Vec<f64> = tasks.iter().map(predicted_pass_rate).collect();
                greedy(&caps, &lambda, start, budget - spent)
            }
            Strategy::GreedyProbe | Strategy::GreedySimilarity => match predicted {
                Some(lambda) => greedy(&caps, lambda, vec![0; caps.len()], budget),
                None => uniform(&caps, budget),
            },
            Strategy::Online => online_snapshots(tasks, &[budget], rule, 0)
                .pop()
                .unwrap_or_default(),
            Strategy::OnlineOracle => {
                online_snapshots_deferring(tasks, &[budget], rule, 0, &unsolvable(tasks))
                    .pop()
                    .unwrap_or_default()
            }
        }
    }
}

/// Per problem, whether none of its candidates is correct (ground truth):
/// the problems [`Strategy::OnlineOracle`] defers.
pub fn unsolvable(tasks: &[Task]) -> Vec<bool> {
    tasks.iter().map(|t| !t.labels.iter().any(|&l| l)).collect()
}

fn pass_rate(labels: &[bool]) -> f64 {
    if labels.is_empty() {
        0.0
    } else {
        labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64
    }
}

/// λ̂: the fraction of candidates passing every test of the problem's first
/// generation; 0.5 (no information) when it gave no usable test.
pub fn predicted_pass_rate(t: &Task) -> f64 {
    let k = t.columns_of(1).min(t.matrix.cols());
    if k == 0 || t.matrix.rows() == 0 {
        return 0.5;
    }
    let passing = t.matrix.pass.iter().filter(|r| r[..k].iter().all(|&p| p));
    passing.count() as f64 / t.matrix.rows() as f64
}

fn uniform(caps: &[usize], budget: usize) -> Vec<usize> {
    let mut b = vec![0; caps.len()];
    let mut left = budget;
    loop {
        let open: Vec<usize> = (0..caps.len()).filter(|&i| b[i] < caps[i]).collect();
        if open.is_empty() || left == 0 {
            return b;
        }
        for i in open {
            if left == 0 {
                break;
            }
            b[i] += 1;
            left -= 1;
        }
    }
}

/// The paper's greedy: each next test to the largest λ(1-λ)^b.
fn greedy(caps: &[usize], lambda: &[f64], mut b: Vec<usize>, budget: usize) -> Vec<usize> {
    for _ in 0..budget {
        let best = (0..caps.len())
            .filter(|&i| b[i] < caps[i])
            .map(|i| (i, lambda[i] * (1.0 - lambda[i]).powi(b[i] as i32)))
            .fold(None, |acc: Option<(usize, f64)>, (i, g)| match acc {
                Some((_, bg)) if bg >= g => acc,
                _ => Some((i, g)),
            });
        match best {
            Some((i, _)) => b[i] += 1,
            None => break,
        }
    }
    b
}

/// Mean accuracy of `rule` when problem `i` uses the tests of its first
/// `b[i]` generations (a problem with none is a uniform pick).
pub fn accuracy_with(tasks: &[Task], b: &[usize], rule: Rule) -> f64 {
    if tasks.is_empty() {
        return 0.0;
    }
    scores_with(tasks, b, rule).iter().sum::<f64>() / tasks.len() as f64
}

/// Each problem's expected score when problem `i` buys its first `b[i]`
/// generations: what [`accuracy_with`] averages, kept per problem so
/// allocators can be compared problem by problem (per difficulty band).
pub fn scores_with(tasks: &[Task], b: &[usize], rule: Rule) -> Vec<f64> {
    tasks
        .iter()
        .zip(b)
        .map(|(t, &k)| rule.score(&t.first_generations(k), &t.labels))
        .collect()
}

/// Mean tests per problem when problem `i` buys its first `b[i]`
/// generations: the sandbox's cost of an allocation. It differs from the
/// generations bought wherever a generation yields other than one test (a
/// CodeT sample gives zero to five asserts), so two allocators with the same
/// budget of model calls can run very different numbers of tests.
pub fn tests_run(tasks: &[Task], b: &[usize]) -> f64 {
    if tasks.is_empty() {
        return 0.0;
    }
    let total: usize = tasks.iter().zip(b).map(|(t, &k)| t.columns_of(k)).sum();
    total as f64 / tasks.len() as f64
}

/// Runs the tests of a problem in order and stops running a candidate as
/// soon as it can no longer reach the top pass count. Returns the CodeRM
/// selection (identical to running everything) and the executions made.
pub fn pruned_coderm(m: &PassMatrix) -> (Vec<usize>, usize) {
    let n = m.rows();
    let cols = m.distinct_cols();
    let total = cols.len();
    let mut counts = vec![0usize; n];
    let mut alive = vec![true; n];
    let mut executions = 0;
    for (t, &j) in cols.iter().enumerate() {
        for i in 0..n {
            if alive[i] {
                executions += 1;
                counts[i] += usize::from(m.pass[i][j]);
            }
        }
        let best = (0..n)
            .filter(|&i| alive[i])
            .map(|i| counts[i])
            .max()
            .unwrap_or(0);
        let remaining = total - t - 1;
        for i in 0..n {
            if alive[i] && counts[i] + remaining < best {
                alive[i] = false;
            }
        }
    }
    let survivors: Vec<usize> = (0..n).filter(|&i| alive[i]).collect();
    let sub = m.select(&survivors, &(0..m.cols()).collect::<Vec<_>>());
    let chosen = Rule::Coderm
        .select(&sub)
        .into_iter()
        .map(|k| survivors[k])
        .collect();
    (chosen, executions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::task;

    #[test]
    fn uniform_spreads_and_respects_caps() {
        let tasks = vec![task(&["1"], &[true]), task(&["111", "000"], &[true, false])];
        assert_eq!(
            Strategy::Uniform.allocate(&tasks, 3, Rule::Coderm, None),
            vec![1, 2]
        );
    }

    /// Three problems whose true pass rates are 1, 0.5 and 0.
    fn solved_half_and_unsolved() -> Vec<Task> {
        vec![
            task(&["111", "111"], &[true, true]),
            task(&["101", "011"], &[true, false]),
            task(&["000", "000"], &[false, false]),
        ]
    }

    #[test]
    fn the_greedy_follows_the_marginal_gain() {
        // Gains λ(1-λ)^b: λ = 1 gives 1 then 0; λ = 0.5 gives 0.5, 0.25,
        // 0.125; λ = 0 gives nothing ever.
        let tasks = solved_half_and_unsolved();
        assert_eq!(
            Strategy::GreedyOracle.allocate(&tasks, 2, Rule::Coderm, None),
            vec![1, 1, 0]
        );
        assert_eq!(
            Strategy::GreedyOracle.allocate(&tasks, 4, Rule::Coderm, None),
            vec![1, 3, 0]
        );
    }

    #[test]
    fn the_probe_greedy_follows_the_predicted_pass_rates() {
        // Same problems as above, but the probe believes problem 2 is the
        // half-solvable one: the budget follows the prediction.
        let tasks = solved_half_and_unsolved();
        let lambda = [1.0, 0.0, 0.5];
        for s in [Strategy::GreedyProbe, Strategy::GreedySimilarity] {
            assert_eq!(
                s.allocate(&tasks, 4, Rule::Coderm, Some(&lambda)),
                vec![1, 0, 3]
            );
            assert_eq!(s.allocate(&tasks, 3, Rule::Coderm, None), vec![1, 1, 1]);
        }
    }

    #[test]
    fn the_online_oracle_spends_on_solvable_problems_first() {
        // Problem 0: no candidate is correct, and no candidate passes any
        // of its tests, so to `online` its vote stays open. Problem 1:
        // both candidates are right and pass everything, settled at once.
        let tasks = vec![
            task(&["0000", "0000"], &[false, false]),
            task(&["1111", "1111"], &[true, true]),
        ];
        assert_eq!(unsolvable(&tasks), vec![true, false]);
        // Online sees an open vote and keeps buying for it.
        assert_eq!(
            Strategy::Online.allocate(&tasks, 4, Rule::Codet, None),
            vec![3, 1]
        );
        // The oracle knows no test can make it right and buys it last.
        assert_eq!(
            Strategy::OnlineOracle.allocate(&tasks, 4, Rule::Codet, None),
            vec![0, 4]
        );
        assert_eq!(
            Strategy::OnlineOracle.allocate(&tasks, 6, Rule::Codet, None),
            vec![2, 4]
        );
    }

    #[test]
    fn tests_run_counts_what_the_bought_generations_gave() {
        // Problem 0's generations gave 0, 3 and 1 tests; problem 1's one
        // test each.
        let mut t0 = task(&["1010", "0101"], &[true, false]);
        t0.generations = vec![0, 3, 1];
        let t1 = task(&["11", "10"], &[true, false]);
        let tasks = vec![t0, t1];
        assert_eq!(tests_run(&tasks, &[1, 1]), 0.5);
        assert_eq!(tests_run(&tasks, &[2, 1]), 2.0);
        assert_eq!(tests_run(&tasks, &[3, 2]), 3.0);
        assert_eq!(tests_run(&[], &[]), 0.0);
    }

    #[test]
    fn pruning_saves_executions_on_a_clear_winner() {
        let m = PassMatrix::distinct(vec![
            "1111111111".chars().map(|c| c == '1').collect(),
            "0000000000".chars().map(|c| c == '1').collect(),
        ]);
        let (chosen, execs) = pruned_coderm(&m);
        assert_eq!(chosen, vec![0]);
        assert!(execs < 20, "{execs}");
    }
}
