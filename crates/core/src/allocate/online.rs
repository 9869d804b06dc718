//! The `online` allocator: buy test generations one at a time, each for the
//! problem whose vote the next generations are most likely to move toward
//! a larger consensus.
//!
//! # Why this design
//!
//! A strategy that matches the full-budget vote with a fraction of the
//! budget must stop spending on a problem as soon as its vote has reached
//! the selection the whole pool would give it, and keep spending where
//! that selection is still open — and where spending moves it *somewhere
//! better*. So the allocator simulates, for each problem, its vote after
//! the next [`HORIZON`] generations (or all it has left, if fewer), and
//! asks two things of each simulated future: does the selection change,
//! and if so, are more candidates behind the new one than behind the old?
//! Three things decide it, all observed as the run goes:
//!
//! * **How many tests are still to come.** Generations differ wildly in
//!   what they yield: on the CodeGen-16B pool most problems' generations
//!   give no usable assert at all, a few give five each. The expected
//!   number of tests to come is `min(generations left, HORIZON) × ŷ ×
//!   tests per useful generation`, with the yield ŷ = `(useful + 1) / (bought + 2)` (a
//!   Beta(1, 1) prior, so a problem that has yielded nothing yet is not
//!   written off). A problem whose generations keep coming back empty has
//!   few tests to come and can change little, however undecided it looks.
//!   The horizon is what makes this a price: measured on the CodeGen-16B
//!   pool, the change by the *end* (every generation left) ranks a problem
//!   that needs 90 more generations to move as high as one that moves in
//!   the next 5; in a simulation over 6 shuffles of that pool it scored
//!   below a 10-generation horizon at 48 and 64 generations per problem.
//! * **What those tests will look like.** Candidates with the same pass
//!   signature stay together, so a test matters only through which groups
//!   pass it. The tests to come are drawn from a Pólya urn over the group
//!   patterns seen so far (the Dirichlet-process posterior predictive, with
//!   mass 1 on a pattern not yet seen, in which each group passes with
//!   probability 1/2). Adding each simulated future to the groups' pass
//!   counts and scoring the rule on groups gives the future winner; the
//!   fraction of [`FUTURES`] simulated futures in which it differs is the
//!   change probability ([`Outlook::change`]).
//! * **Whether a change is worth buying.** The premise of the whole
//!   method (CodeT's dual agreement) is that correct programs agree with
//!   each other and wrong ones scatter. A change that hands the vote to a
//!   *larger* group is the tests overturning a small group that led on a
//!   few early tests; a change to a *smaller* group is the vote wandering
//!   among scattered programs, which is what a problem with no correct
//!   candidate does forever. So each future is worth the growth of the
//!   share of candidates that agree with the pick (the picked candidate's
//!   group; a tie between groups counts as the group the uniform pick
//!   lands in, on average), and nothing when it shrinks
//!   ([`Outlook::gain`]); the allocator ranks problems by the mean over
//!   futures. Measured in a replay of the CodeGen-16B pool (20 shuffles,
//!   codet), ranking by this gain instead of by the change probability
//!   scored +0.5 (16 generations per problem), +0.6 (24) and +0.6 (34)
//!   points, each about two standard errors of the paired difference, and
//!   −0.2 (one s.e.) at 64: the budget it stops spending on wandering
//!   votes goes to problems that gain.
//!
//! A problem with no usable test yet, or none that any candidate passes,
//! is open (gain 1): every candidate is tied. Problems whose gain is 0 —
//! in every simulated future the vote holds or moves to fewer
//! candidates — are *settled*: they receive nothing
//! more while any unsettled problem can still buy a generation, and only
//! when all of those are exhausted does the rest of the budget go to
//! settled problems, fewest *tests* first. That is the rest of the budget's
//! question: a vote is only as settled as the tests behind it, and a
//! problem whose generations rarely yield a test looks settled after 20
//! generations that gave it two. On the CodeGen-16B pool most of the gain
//! from tests sits in exactly such problems; in the replay (20 shuffles)
//! topping settled votes up by tests instead of by generations scored
//! +0.8 ± 0.3 points at 34 generations per problem and +1.0 ± 0.4 at 48.
//! (A problem whose generations never yield a test takes the rest first,
//! up to its cap; its vote stays a uniform pick.) Other ties also go to
//! fewer tests, then fewer generations, so before anything is known
//! online spends like uniform. One generation at a time is the limit of rounds of any size:
//! `codejury run --test-budget` buys for the top of the same ranking
//! ([`next_purchases`]) in rounds, executing each round's tests before
//! ranking again.
//!
//! What the estimate leaves out: a future test can also split a group
//! (candidates that agreed so far may differ on it); the urn treats groups
//! as fixed. This makes rules that depend only on group sizes (`mbr`,
//! `random`) look settled once tested, which for them is true as long as
//! no group splits; and it makes a problem whose candidates all passed the
//! same tests so far (one group) look settled until a test tells them
//! apart.

use crate::metrics::Task;
use crate::select::{PassMatrix, Rule};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// Simulated futures per estimate.
pub const FUTURES: usize = 32;

/// Generations ahead over which the change of a vote is estimated.
pub const HORIZON: usize = 10;

/// The Pólya urn's mass on a test pattern not seen so far.
const NEW_PATTERN_MASS: f64 = 1.0;

/// One problem as the online allocator sees it after buying `bought` of
/// its `cap` generations, `useful` of which gave at least one test.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Generations bought.
    pub bought: usize,
    /// Generations bought that gave at least one usable test.
    pub useful: usize,
    /// Generations the problem can get at most.
    pub cap: usize,
}

/// What the next [`HORIZON`] generations of one problem are expected to do
/// to its vote, estimated over [`FUTURES`] simulated futures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outlook {
    /// The fraction of futures in which the rule's selection changes.
    pub change: f64,
    /// The mean, over futures, of how much the share of candidates that
    /// agree with the pick grows (0 in a future where it does not change or
    /// moves to fewer candidates). The share is that of the picked
    /// candidate's group, in expectation over the uniform pick among the
    /// selected rows. This is what `online` ranks by.
    pub gain: f64,
}

impl Outlook {
    const SETTLED: Outlook = Outlook {
        change: 0.0,
        gain: 0.0,
    };
    const OPEN: Outlook = Outlook {
        change: 1.0,
        gain: 1.0,
    };
}

/// The probability that `rule`'s selection on `m` (the tests bought so far)
/// differs from its selection after [`HORIZON`] more generations, or all
/// it has left if fewer (see the module docs). `seed` makes the estimate reproducible.
pub fn change_probability(m: &PassMatrix, rule: Rule, p: Progress, seed: u64) -> f64 {
    outlook(m, rule, p, seed).change
}

/// The [`Outlook`] of `rule`'s vote on `m` (the tests bought so far) over
/// the next [`HORIZON`] generations, or all it has left if fewer (see the
/// module docs). `seed` makes the estimate reproducible.
pub fn outlook(m: &PassMatrix, rule: Rule, p: Progress, seed: u64) -> Outlook {
    outlook_over(m, rule, p, seed, HORIZON)
}

/// [`outlook`] over the next `horizon` generations instead of
/// [`HORIZON`]: the one constant of the allocator that `scale --folds`
/// tunes on some problems and scores on others.
pub fn outlook_over(m: &PassMatrix, rule: Rule, p: Progress, seed: u64, horizon: usize) -> Outlook {
    let left = p.cap.saturating_sub(p.bought);
    if left == 0 || m.rows() <= 1 {
        return Outlook::SETTLED;
    }
    let c = m.cols();
    let rate = (p.useful as f64 + 1.0) / (p.bought as f64 + 2.0);
    // Tests per useful generation: as observed, else one.
    let per = if p.useful == 0 {
        1.0
    } else {
        c as f64 / p.useful as f64
    };
    let future = (left.min(horizon) as f64 * rate * per).round() as usize;
    if future == 0 {
        return Outlook::SETTLED;
    }
    if c == 0 || m.pass.iter().all(|row| row.iter().all(|&p| !p)) {
        // No test has told any two candidates apart yet: every candidate
        // is tied, and the first test that some pass decides.
        return Outlook::OPEN;
    }

    let Groups {
        reps,
        sizes,
        passes,
        ..
    } = Groups::of(m, rule);
    let groups = reps.len();
    let now = group_winners(rule, &passes, &sizes);
    let rows = m.rows() as f64;
    let share = |winners: &[usize]| agreement_with_pick(winners, &sizes, rows);
    let share_now = share(&now);

    // The patterns seen so far, as the urn's balls.
    let mut pattern_of: HashMap<Vec<bool>, usize> = HashMap::new();
    let mut patterns: Vec<Vec<bool>> = Vec::new();
    let mut urn: Vec<usize> = Vec::with_capacity(c + future);
    for j in 0..c {
        let pattern: Vec<bool> = reps.iter().map(|&r| m.pass[r][j]).collect();
        let next = patterns.len();
        let id = *pattern_of.entry(pattern.clone()).or_insert(next);
        if id == next {
            patterns.push(pattern);
        }
        urn.push(id);
    }
    let seen = patterns.len();

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut changed = 0;
    let mut gain = 0.0;
    for _ in 0..FUTURES {
        urn.truncate(c);
        patterns.truncate(seen);
        let mut drawn = vec![0usize; seen];
        for _ in 0..future {
            let n = urn.len() as f64;
            let id = if rng.random::<f64>() * (n + NEW_PATTERN_MASS) < NEW_PATTERN_MASS {
                patterns.push((0..groups).map(|_| rng.random::<bool>()).collect());
                drawn.push(0);
                patterns.len() - 1
            } else {
                urn[rng.random_range(0..urn.len())]
            };
            urn.push(id);
            drawn[id] += 1;
        }
        let mut total = passes.clone();
        for (id, &k) in drawn.iter().enumerate().filter(|(_, &k)| k > 0) {
            for (g, t) in total.iter_mut().enumerate() {
                if patterns[id][g] {
                    *t += k as f64;
                }
            }
        }
        let then = group_winners(rule, &total, &sizes);
        if then != now {
            changed += 1;
            gain += (share(&then) - share_now).max(0.0);
        }
    }
    Outlook {
        change: changed as f64 / FUTURES as f64,
        gain: gain / FUTURES as f64,
    }
}

/// The share of all `rows` candidates that are in the group of the
/// candidate the vote picks (uniformly among the rows of the `winners`
/// groups), in expectation: a tie between groups is no more consensus
/// than either group alone.
fn agreement_with_pick(winners: &[usize], sizes: &[f64], rows: f64) -> f64 {
    let selected: f64 = winners.iter().map(|&g| sizes[g]).sum();
    if selected == 0.0 || rows == 0.0 {
        return 0.0;
    }
    winners.iter().map(|&g| sizes[g] * sizes[g]).sum::<f64>() / (selected * rows)
}

/// Candidates grouped by pass signature: a future test can only add to a
/// group's pass count, so the vote is scored on groups, not rows.
struct Groups {
    /// A row of each group.
    reps: Vec<usize>,
    /// Rows per group.
    sizes: Vec<f64>,
    /// Tests each group passes, counted as `rule` counts them (CodeRM and
    /// passcount count distinct tests, CodeT every column).
    passes: Vec<f64>,
}

impl Groups {
    fn of(m: &PassMatrix, rule: Rule) -> Groups {
        let mut group_of_sig: HashMap<&[bool], usize> = HashMap::new();
        let mut reps = Vec::new();
        let mut sizes: Vec<f64> = Vec::new();
        for (i, row) in m.pass.iter().enumerate() {
            let g = *group_of_sig.entry(row.as_slice()).or_insert_with(|| {
                reps.push(i);
                sizes.push(0.0);
                reps.len() - 1
            });
            sizes[g] += 1.0;
        }
        let counted: Vec<usize> = match rule {
            Rule::Coderm | Rule::Passcount => m.distinct_cols(),
            _ => (0..m.cols()).collect(),
        };
        let passes = reps
            .iter()
            .map(|&r| counted.iter().filter(|&&j| m.pass[r][j]).count() as f64)
            .collect();
        Groups {
            reps,
            sizes,
            passes,
        }
    }
}

/// The groups `rule` selects, from each group's pass count and size (the
/// rules of [`crate::select`], scored on groups of identical signature).
fn group_winners(rule: Rule, passes: &[f64], sizes: &[f64]) -> Vec<usize> {
    let all = || (0..sizes.len()).collect::<Vec<_>>();
    let top = |score: &dyn Fn(usize) -> f64, among: &[usize]| -> Vec<usize> {
        let best = among
            .iter()
            .map(|&g| score(g))
            .fold(f64::NEG_INFINITY, f64::max);
        let tol = 1e-9 * best.abs().max(1.0);
        among
            .iter()
            .copied()
            .filter(|&g| (score(g) - best).abs() <= tol)
            .collect()
    };
    match rule {
        Rule::Codet | Rule::CodetPaper => {
            let scored: Vec<usize> = all().into_iter().filter(|&g| passes[g] > 0.0).collect();
            if scored.is_empty() {
                return all();
            }
            if rule == Rule::Codet {
                top(&|g| passes[g] * sizes[g].sqrt(), &scored)
            } else {
                top(&|g| passes[g] * sizes[g], &scored)
            }
        }
        Rule::Coderm => {
            let most = top(&|g| passes[g], &all());
            top(&|g| sizes[g], &most)
        }
        Rule::Passcount => top(&|g| passes[g], &all()),
        Rule::Mbr => top(&|g| sizes[g], &all()),
        Rule::Random => all(),
    }
}

/// The seed of problem `i`'s outlook after `bought` generations, from a
/// run's `seed`: the same state gets the same estimate, so a resumed run
/// makes the same purchases.
pub fn problem_seed(seed: u64, i: usize, bought: usize) -> u64 {
    (seed ^ ((i as u64) << 32) ^ bought as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Where one problem stands when the next generations are handed out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    /// Its [`Outlook::gain`] on the tests it has.
    pub gain: f64,
    /// Tests its generations gave so far.
    pub tests: usize,
    /// Generations bought so far.
    pub bought: usize,
    /// Generations it can get at most.
    pub cap: usize,
}

/// The (at most) `k` problems that get the next generations, among those
/// below their cap: largest gain first; then fewest tests, so settled
/// votes are topped up to equal numbers of tests, not of generations (see
/// the module docs); then fewest generations; then position. A round of
/// any size takes the top of the ranking that buying one generation at a
/// time would follow.
pub fn next_purchases(standings: &[Standing], k: usize) -> Vec<usize> {
    let mut open: Vec<usize> = (0..standings.len())
        .filter(|&i| standings[i].bought < standings[i].cap)
        .collect();
    open.sort_by(|&x, &y| {
        let (a, b) = (&standings[x], &standings[y]);
        b.gain
            .total_cmp(&a.gain)
            .then(a.tests.cmp(&b.tests))
            .then(a.bought.cmp(&b.bought))
            .then(x.cmp(&y))
    });
    open.truncate(k);
    open
}

/// Runs the online allocation once, up to the largest budget, and returns
/// the allocation (generations per problem) at each of `budgets`
/// (ascending): each is a prefix of the same sequence of purchases, so one
/// run serves every budget. `seed` drives the simulated futures.
pub fn online_snapshots(
    tasks: &[Task],
    budgets: &[usize],
    rule: Rule,
    seed: u64,
) -> Vec<Vec<usize>> {
    online_snapshots_deferring(tasks, budgets, rule, seed, &[])
}

/// [`online_snapshots`] with outlooks over `horizon` generations
/// ([`outlook_over`]).
pub fn online_snapshots_over(
    tasks: &[Task],
    budgets: &[usize],
    rule: Rule,
    seed: u64,
    horizon: usize,
) -> Vec<Vec<usize>> {
    snapshots(tasks, budgets, rule, seed, &[], horizon)
}

/// [`online_snapshots`], except that the problems marked in `deferred`
/// buy nothing while any other problem is below its cap. With `deferred`
/// = "no candidate is correct" (ground truth) this is the `online-oracle`
/// bound: what online would reach if it could tell which votes no test
/// can make right. An empty `deferred` defers nothing.
pub fn online_snapshots_deferring(
    tasks: &[Task],
    budgets: &[usize],
    rule: Rule,
    seed: u64,
    deferred: &[bool],
) -> Vec<Vec<usize>> {
    snapshots(tasks, budgets, rule, seed, deferred, HORIZON)
}

fn snapshots(
    tasks: &[Task],
    budgets: &[usize],
    rule: Rule,
    seed: u64,
    deferred: &[bool],
    horizon: usize,
) -> Vec<Vec<usize>> {
    let is_deferred = |i: usize| deferred.get(i).copied().unwrap_or(false);
    let mut useful = vec![0usize; tasks.len()];
    let standing = |i: usize, bought: usize, useful: usize| {
        let t = &tasks[i];
        let progress = Progress {
            bought,
            useful,
            cap: t.generations.len(),
        };
        let gain = outlook_over(
            &t.first_generations(bought),
            rule,
            progress,
            problem_seed(seed, i, bought),
            horizon,
        )
        .gain;
        Standing {
            gain,
            tests: t.columns_of(bought),
            bought,
            cap: progress.cap,
        }
    };
    let mut standings: Vec<Standing> = (0..tasks.len()).map(|i| standing(i, 0, 0)).collect();
    let mut spent = 0;
    let mut out = Vec::with_capacity(budgets.len());
    for &budget in budgets {
        while spent < budget {
            // The same ranking, deferred problems only once nothing else is open.
            let ranked = next_purchases(&standings, standings.len());
            let pick = ranked.iter().find(|&&i| !is_deferred(i)).or(ranked.first());
            let Some(&i) = pick else {
                break;
            };
            let bought = standings[i].bought;
            if tasks[i].generations[bought] > 0 {
                useful[i] += 1;
            }
            spent += 1;
            standings[i] = standing(i, bought + 1, useful[i]);
        }
        out.push(standings.iter().map(|s| s.bought).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::task;

    fn progress(bought: usize, cap: usize) -> Progress {
        Progress {
            bought,
            useful: bought,
            cap,
        }
    }

    #[test]
    fn a_dominant_group_is_settled_and_a_close_race_is_not() {
        // 8 candidates agree and pass all 6 tests; 2 pass none: no future
        // drawn from these tests can unseat the 8.
        let mut rows = vec!["111111"; 8];
        rows.extend(["000000"; 2]);
        let clear = task(&rows, &[true; 10]);
        let p = change_probability(&clear.matrix, Rule::Codet, progress(6, 100), 1);
        assert_eq!(p, 0.0);
        // Two groups of 5 split every test between them, 3 each: the next
        // tests decide, so most futures change the (pooled) winner.
        let mut rows = vec!["111000"; 5];
        rows.extend(["000111"; 5]);
        let race = task(&rows, &[true; 10]);
        let p = change_probability(&race.matrix, Rule::Codet, progress(6, 100), 1);
        assert!(p > 0.5, "{p}");
        // With no generation left, nothing can change.
        let p = change_probability(&race.matrix, Rule::Codet, progress(6, 6), 1);
        assert_eq!(p, 0.0);
    }

    #[test]
    fn few_tests_still_to_come_change_little() {
        // Group A (6) passes 3 tests, group B (4) passes the other 4: B
        // leads under CodeT by 4·2 = 8 against 3·√6 ≈ 7.3. If those 7
        // tests took 50 generations, the next 10 bring about 2 more, which
        // rarely reverses that; if they took 7 generations, the next 10
        // bring about 9, and the lead often changes hands.
        let mut rows = vec!["1110000"; 6];
        rows.extend(["0001111"; 4]);
        let t = task(&rows, &[true; 10]);
        let sparse = Progress {
            bought: 50,
            useful: 7,
            cap: 100,
        };
        let rich = Progress {
            bought: 7,
            useful: 7,
            cap: 100,
        };
        let p_sparse = change_probability(&t.matrix, Rule::Codet, sparse, 3);
        let p_rich = change_probability(&t.matrix, Rule::Codet, rich, 3);
        assert!(p_sparse < p_rich, "{p_sparse} vs {p_rich}");
    }

    #[test]
    fn group_winners_follow_each_rule() {
        let passes = [3.0, 2.0, 3.0, 0.0];
        let sizes = [1.0, 4.0, 2.0, 5.0];
        // codet: 3·1, 2·2, 3·√2 ≈ 4.24 → group 2.
        assert_eq!(group_winners(Rule::Codet, &passes, &sizes), vec![2]);
        // codet-paper: 3, 8, 6 → group 1.
        assert_eq!(group_winners(Rule::CodetPaper, &passes, &sizes), vec![1]);
        // coderm: most passes (0 and 2), then the larger group.
        assert_eq!(group_winners(Rule::Coderm, &passes, &sizes), vec![2]);
        assert_eq!(group_winners(Rule::Passcount, &passes, &sizes), vec![0, 2]);
        assert_eq!(group_winners(Rule::Mbr, &passes, &sizes), vec![3]);
    }

    proptest::proptest! {
        /// Scoring on groups is a shortcut for the rules of
        /// [`crate::select`]: on any matrix (tests repeated included) the
        /// rows of the winning groups are exactly the rows the rule selects.
        #[test]
        fn group_winners_select_what_the_rules_select(
            base in proptest::collection::vec(proptest::collection::vec(proptest::bool::ANY, 3), 1..9),
            col_key in proptest::collection::vec(0usize..3, 0..6),
        ) {
            let m = PassMatrix {
                pass: base.iter().map(|r| col_key.iter().map(|&k| r[k]).collect()).collect(),
                row_key: (0..base.len()).collect(),
                col_key,
            };
            for rule in Rule::ALL {
                let g = Groups::of(&m, rule);
                let winners = group_winners(rule, &g.passes, &g.sizes);
                let rows: Vec<usize> = (0..m.rows())
                    .filter(|&i| winners.iter().any(|&w| m.pass[g.reps[w]] == m.pass[i]))
                    .collect();
                let mut selected = rule.select(&m);
                selected.sort_unstable();
                proptest::prop_assert_eq!(rows, selected, "{}", rule);
            }
        }
    }

    #[test]
    fn online_spends_until_the_larger_group_leads() {
        // Problem 0: every candidate passes every test, settled once it has
        // one. Problem 1: a lone candidate passes the first two tests, a
        // group of three all the others; the lone one leads until the
        // fourth test, and only then does the vote rest with the larger
        // group. Each has 12 generations of one test.
        let clear = task(&["111111111111"; 2], &[true, true]);
        let mut rows = vec!["110000000000"];
        rows.extend(["001111111111"; 3]);
        let race = task(&rows, &[false, true, true, true]);
        let tasks = vec![clear, race];
        let snaps = online_snapshots(&tasks, &[2, 6, 24], Rule::Codet, 7);
        // Before anything is known, one each.
        assert_eq!(snaps[0], vec![1, 1]);
        // Problem 1 buys until the group of three leads (4 generations);
        // then both are settled and the fewer-generations rule evens out.
        assert_eq!(snaps[1], vec![2, 4]);
        // The whole budget buys everything.
        assert_eq!(snaps[2], vec![12, 12]);
    }

    #[test]
    fn a_change_toward_fewer_candidates_is_worth_nothing() {
        // Group A (3 candidates) and B (1) split 4 tests 2–2 then 1–3.
        // When A leads (2·√3 ≈ 3.5 against 2), the next tests may hand
        // the vote to B, but that moves it to fewer candidates: gain 0.
        let mut rows = vec!["1100"; 3];
        rows.push("0011");
        let t = task(&rows, &[true, true, true, false]);
        let o = outlook(&t.matrix, Rule::Codet, progress(4, 100), 5);
        assert!(o.change > 0.0, "{o:?}");
        assert_eq!(o.gain, 0.0);
        // When B leads (3 against 1·√3), a change can only bring A back:
        // three times the candidates, gain 3/4 − 1/4 in that future.
        let mut rows = vec!["1000"; 3];
        rows.push("0111");
        let t = task(&rows, &[true, true, true, false]);
        let o = outlook(&t.matrix, Rule::Codet, progress(4, 100), 5);
        assert!(o.gain > 0.0, "{o:?}");
        assert!((o.gain - 0.5 * o.change).abs() < 1e-12, "{o:?}");
    }

    #[test]
    fn the_open_go_first_then_the_settled_with_fewest_tests() {
        let at = |gain, tests, bought| Standing {
            gain,
            tests,
            bought,
            cap: 10,
        };
        let standings = [
            at(0.0, 5, 3),
            at(0.0, 1, 8),
            at(0.2, 9, 9),
            at(0.9, 0, 10), // at its cap
            at(0.0, 1, 2),
        ];
        assert_eq!(next_purchases(&standings, 3), vec![2, 4, 1]);
        assert_eq!(next_purchases(&standings, 9), vec![2, 4, 1, 0]);
    }

    #[test]
    fn a_tie_is_no_more_agreement_than_one_of_its_groups() {
        let sizes = [5.0, 5.0, 8.0];
        assert_eq!(agreement_with_pick(&[0], &sizes, 20.0), 0.25);
        assert_eq!(agreement_with_pick(&[0, 1], &sizes, 20.0), 0.25);
        assert_eq!(agreement_with_pick(&[2], &sizes, 20.0), 0.4);
        // 5/13 of picks land in a group of 5, 8/13 in the group of 8.
        let mixed = agreement_with_pick(&[0, 2], &sizes, 20.0);
        assert!((mixed - (25.0 + 64.0) / (13.0 * 20.0)).abs() < 1e-12);
    }

    #[test]
    fn a_vote_no_candidate_has_passed_is_open() {
        // Tests exist but every candidate fails them all: nothing has told
        // the candidates apart, so the vote is as open as with no tests.
        let t = task(&["000", "000", "000"], &[true, false, false]);
        let o = outlook(&t.matrix, Rule::Codet, progress(3, 100), 1);
        assert_eq!(o, Outlook::OPEN);
    }

    #[test]
    fn a_problem_whose_generations_yield_nothing_stops_when_no_test_is_expected() {
        // No usable test after b generations: the yield estimate 1/(b+2)
        // expects 10/(b+2) tests from the next 10 generations, under half
        // a test from b = 19 on.
        let t = task(&["1", "0"], &[true, false]);
        let empty = t.first_generations(0);
        let at = |bought| Progress {
            bought,
            useful: 0,
            cap: 30,
        };
        assert_eq!(change_probability(&empty, Rule::Codet, at(18), 0), 1.0);
        assert_eq!(change_probability(&empty, Rule::Codet, at(19), 0), 0.0);
    }
}
