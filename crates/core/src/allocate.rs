//! Spending a budget of test generations across problems.
//!
//! The unit of budget is one test generation. A strategy decides how many
//! tests each problem gets; the CodeRM vote then runs on each problem's
//! first `b_i` tests (in a fixed, shuffled generation order). Strategies:
//!
//! * [`Strategy::Uniform`]: the same number for every problem.
//! * [`Strategy::GreedyOracle`]: the paper's greedy allocation, each next
//!   test to the problem with the largest marginal gain λ(1-λ)^b, with λ the
//!   *true* pass rate of the problem's candidates (an upper bound for the
//!   paper's method: it needs ground truth).
//! * [`Strategy::GreedyAgreement`]: the same greedy with λ predicted without
//!   ground truth, as the fraction of candidates passing the problem's first
//!   test (which is bought from the budget). Works with any backend.
//! * [`Strategy::GreedyProbe`]: the same greedy with λ from the paper's
//!   probe, a two-layer MLP on a model's hidden state of the problem
//!   ([`crate::probe`]); the caller supplies its held-out predictions.
//! * [`Strategy::Online`]: tests are bought in rounds; each round gives one
//!   test to every problem whose vote is not yet settled, least settled
//!   first, and settled problems stop. *Settledness* is judged from first
//!   principles: another test matters only if it can change the selection,
//!   and it can do so only by splitting the candidates still in contention
//!   — those whose pass count is within one of the top. The chance that the
//!   next test splits them is estimated from how often the tests seen so
//!   far did, with a uniform Beta(1, 1) prior: `(splits + 1) / (b + 2)`
//!   (other rules: a bootstrap of the vote, smoothed the same way; see
//!   [`instability`]). A problem settles when that chance is at most 5%,
//!   which the prior allows only after 18 tests without a split: three
//!   agreeing tests are no evidence about the fourth. Below that, online
//!   spends exactly like uniform; above it, the tests settled problems no
//!   longer take go to the ones still undecided.

use crate::metrics::Task;
use crate::select::{PassMatrix, Rule};
use serde::Serialize;

/// An allocation strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Same tests per problem.
    Uniform,
    /// Paper's greedy with the true pass rate (needs ground truth).
    GreedyOracle,
    /// Paper's greedy with the pass rate predicted from the first test.
    GreedyAgreement,
    /// Paper's greedy with the pass rate predicted by the hidden-state probe.
    GreedyProbe,
    /// Rounds to the least settled votes.
    Online,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 5] = [
        Strategy::Uniform,
        Strategy::GreedyOracle,
        Strategy::GreedyAgreement,
        Strategy::GreedyProbe,
        Strategy::Online,
    ];

    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Uniform => "uniform",
            Strategy::GreedyOracle => "greedy-oracle",
            Strategy::GreedyAgreement => "greedy-agreement",
            Strategy::GreedyProbe => "greedy-probe",
            Strategy::Online => "online",
        }
    }

    /// Tests per problem for a total `budget`; `tasks[i].matrix` columns
    /// are in generation order (the order tests would be bought). `probe`
    /// holds the probe's predicted pass rate per problem; without it,
    /// `GreedyProbe` spreads the budget uniformly.
    pub fn allocate(
        self,
        tasks: &[Task],
        budget: usize,
        rule: Rule,
        probe: Option<&[f64]>,
    ) -> Vec<usize> {
        let caps: Vec<usize> = tasks.iter().map(|t| t.matrix.cols()).collect();
        match self {
            Strategy::Uniform => uniform(&caps, budget),
            Strategy::GreedyOracle => {
                let lambda: Vec<f64> = tasks.iter().map(|t| pass_rate(&t.labels)).collect();
                greedy(&caps, &lambda, vec![0; caps.len()], budget)
            }
            Strategy::GreedyAgreement => {
                // The first test of every problem is bought to predict λ.
                let start: Vec<usize> = caps.iter().map(|&c| c.min(1)).collect();
                let spent: usize = start.iter().sum();
                if spent > budget {
                    return uniform(&caps, budget);
                }
                let lambda: Vec<f64> = tasks.iter().map(predicted_pass_rate).collect();
                greedy(&caps, &lambda, start, budget - spent)
            }
            Strategy::GreedyProbe => match probe {
                Some(lambda) => greedy(&caps, lambda, vec![0; caps.len()], budget),
                None => uniform(&caps, budget),
            },
            Strategy::Online => online(tasks, &caps, budget, rule),
        }
    }
}

fn pass_rate(labels: &[bool]) -> f64 {
    if labels.is_empty() {
        0.0
    } else {
        labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64
    }
}

/// λ̂: the fraction of candidates passing the problem's first test.
pub fn predicted_pass_rate(t: &Task) -> f64 {
    if t.matrix.cols() == 0 || t.matrix.rows() == 0 {
        return 0.0;
    }
    t.matrix.pass.iter().filter(|r| r[0]).count() as f64 / t.matrix.rows() as f64
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

/// The chance that one more test changes the CodeRM selection of `m`
/// (see the module docs).
pub fn unsettledness(m: &PassMatrix) -> f64 {
    let b = m.cols();
    if m.rows() <= 1 {
        return 0.0;
    }
    let counts: Vec<usize> = m
        .pass
        .iter()
        .map(|r| r.iter().filter(|&&p| p).count())
        .collect();
    let top = counts.iter().copied().max().unwrap_or(0);
    let contention: Vec<usize> = (0..m.rows()).filter(|&i| counts[i] + 1 >= top).collect();
    let splits = (0..b)
        .filter(|&j| {
            let first = m.pass[contention[0]][j];
            contention.iter().any(|&i| m.pass[i][j] != first)
        })
        .count();
    (splits as f64 + 1.0) / (b as f64 + 2.0)
}

/// The chance that more tests change `rule`'s selection on `m`: for the
/// CodeRM vote, the split estimate above; for any other rule, the fraction
/// `c` of bootstrap resamples of the tests seen so far on which the
/// selection differs, treated as the rate observed over the `b` tests seen
/// and smoothed by the same Beta(1, 1) prior: `(b·c + 1)/(b + 2)`. The
/// prior matters: a bootstrap of three agreeing tests never changes its
/// vote, yet three tests are no evidence that the fourth will agree, so a
/// vote cannot look settled before it has seen enough tests to say so.
pub fn instability(m: &PassMatrix, rule: Rule) -> f64 {
    if rule == Rule::Coderm {
        return unsettledness(m);
    }
    const RESAMPLES: usize = 32;
    // Fewer tests than this cannot show how stable a vote is.
    const MIN_TESTS: usize = 3;
    let b = m.cols();
    if m.rows() <= 1 {
        return 0.0;
    }
    if b < MIN_TESTS {
        return 1.0;
    }
    let current = rule.select(m);
    let rows: Vec<usize> = (0..m.rows()).collect();
    // A fixed generator per (problem size, b): allocations are reproducible.
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ ((m.rows() as u64) << 32) ^ b as u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let changed = (0..RESAMPLES)
        .filter(|_| {
            let cols: Vec<usize> = (0..b)
                .map(|_| (next() % b.max(1) as u64) as usize)
                .collect();
            rule.select(&m.select(&rows, &cols)) != current
        })
        .count();
    let c = changed as f64 / RESAMPLES as f64;
    (b as f64 * c + 1.0) / (b as f64 + 2.0)
}

fn online(tasks: &[Task], caps: &[usize], budget: usize, rule: Rule) -> Vec<usize> {
    online_snapshots(tasks, caps, &[budget], rule)
        .pop()
        .unwrap_or_default()
}

/// Runs the online allocation once, up to the largest budget, and returns
/// the allocation at each of `budgets` (ascending): each is a prefix of the
/// same sequence of purchases, so one run serves every budget. A problem's
/// instability is recomputed only when it has received a new test.
pub fn online_snapshots(
    tasks: &[Task],
    caps: &[usize],
    budgets: &[usize],
    rule: Rule,
) -> Vec<Vec<usize>> {
    // A problem with at most this chance of changing its vote is settled.
    const SETTLED: f64 = 0.05;
    let mut b: Vec<usize> = caps.iter().map(|&c| c.min(1)).collect();
    let mut spent: usize = b.iter().sum();
    let mut out = Vec::with_capacity(budgets.len());
    let mut pending = budgets.iter().copied().peekable();
    // Budgets below one test per problem: fall back to uniform.
    while let Some(&budget) = pending.peek() {
        if budget >= spent {
            break;
        }
        out.push(uniform(caps, budget));
        pending.next();
    }
    let rows_of = |i: usize| (0..tasks[i].matrix.rows()).collect::<Vec<_>>();
    let measure = |i: usize, k: usize| {
        let cols: Vec<usize> = (0..k).collect();
        instability(&tasks[i].matrix.select(&rows_of(i), &cols), rule)
    };
    let mut unstable: Vec<f64> = (0..tasks.len()).map(|i| measure(i, b[i])).collect();
    while let Some(&budget) = pending.peek() {
        if spent == budget {
            out.push(b.clone());
            pending.next();
            continue;
        }
        let mut open: Vec<(usize, f64)> = (0..tasks.len())
            .filter(|&i| b[i] < caps[i] && tasks[i].matrix.rows() > 1 && unstable[i] > SETTLED)
            .map(|i| (i, unstable[i]))
            .collect();
        if open.is_empty() {
            // Every vote is settled: the rest of the budget is not spent.
            out.push(b.clone());
            pending.next();
            continue;
        }
        open.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        // A round buys one test for every open problem, least settled
        // first (when the budget ends mid-round, they are the ones served).
        // Feeding the unsettled *more* than the others was measured and
        // lost: an unsettled vote is often a problem no candidate solves,
        // where tests cannot help, while a vote starved at a few tests
        // loses accuracy it would have kept. What online saves is what
        // settled problems no longer take.
        let round = open.len().min(budget - spent);
        for &(i, _) in open.iter().take(round) {
            b[i] += 1;
            spent += 1;
            unstable[i] = measure(i, b[i]);
        }
    }
    out
}

/// Mean accuracy of `rule` when problem `i` uses its first `b[i]` tests (a
/// problem with none is a uniform pick).
pub fn accuracy_with(tasks: &[Task], b: &[usize], rule: Rule) -> f64 {
    if tasks.is_empty() {
        return 0.0;
    }
    let total: f64 = tasks
        .iter()
        .zip(b)
        .map(|(t, &k)| {
            let rows: Vec<usize> = (0..t.matrix.rows()).collect();
            let cols: Vec<usize> = (0..k.min(t.matrix.cols())).collect();
            rule.score(&t.matrix.select(&rows, &cols), &t.labels)
        })
        .sum();
    total / tasks.len() as f64
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

    #[test]
    fn the_greedy_follows_the_marginal_gain() {
        // Gains λ(1-λ)^b: λ = 1 gives 1 then 0; λ = 0.5 gives 0.5, 0.25,
        // 0.125; λ = 0 gives nothing ever.
        let tasks = vec![
            task(&["111", "111"], &[true, true]),
            task(&["101", "011"], &[true, false]),
            task(&["000", "000"], &[false, false]),
        ];
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
        let tasks = vec![
            task(&["111", "111"], &[true, true]),
            task(&["101", "011"], &[true, false]),
            task(&["000", "000"], &[false, false]),
        ];
        let lambda = [1.0, 0.0, 0.5];
        assert_eq!(
            Strategy::GreedyProbe.allocate(&tasks, 4, Rule::Coderm, Some(&lambda)),
            vec![1, 0, 3]
        );
        assert_eq!(
            Strategy::GreedyProbe.allocate(&tasks, 3, Rule::Coderm, None),
            vec![1, 1, 1]
        );
    }

    #[test]
    fn online_stops_settled_problems_and_feeds_the_undecided() {
        // Problem 0: two candidates that agree on every test: settled after
        // 18 tests. Problem 1: candidates that keep splitting: never settled.
        let agree = ["1".repeat(30), "1".repeat(30)];
        let split = ["10".repeat(15), "01".repeat(15)];
        let agree: Vec<&str> = agree.iter().map(String::as_str).collect();
        let split: Vec<&str> = split.iter().map(String::as_str).collect();
        let tasks = vec![task(&agree, &[true, true]), task(&split, &[true, false])];
        // Below the settling point, online spends like uniform.
        assert_eq!(
            Strategy::Online.allocate(&tasks, 20, Rule::Coderm, None),
            vec![10, 10]
        );
        // Then the settled problem stops and the budget goes on to the other;
        // what neither can use is not spent.
        assert_eq!(
            Strategy::Online.allocate(&tasks, 60, Rule::Coderm, None),
            vec![18, 30]
        );
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
