//! Each allocator's gain over uniform per difficulty band: where a
//! strategy that spends tests unevenly helps (or hurts), problem by
//! problem, at the same average budget. Bands are the report's quintiles
//! by the policy's pass rate ([`codejury_core::difficulty::split`]).

use crate::report::gain_cell;
use codejury_core::allocate::Strategy;
use codejury_core::difficulty::{paired_gain, pass_rate_range, split};
use codejury_core::metrics::{Estimate, Task};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// An allocator's gain over uniform at one budget.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BudgetGain {
    /// Test generations per problem on average.
    pub budget: usize,
    /// Accuracy minus uniform's, paired per problem; the interval redraws
    /// the band's problems.
    pub gain: Estimate,
}

/// One band's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct AllocatorBand {
    /// 1 for the hardest band.
    pub band: usize,
    /// Problems in it.
    pub tasks: usize,
    /// Lowest pass rate in it.
    pub pass_rate_lo: f64,
    /// Highest pass rate in it.
    pub pass_rate_hi: f64,
    /// Per strategy other than uniform, its gain at each budget.
    pub gains: BTreeMap<&'static str, Vec<BudgetGain>>,
}

/// Per-problem scores of one strategy: `scores[k][i]` at `budgets[k]` for
/// problem `i`, averaged over shuffles.
pub struct StrategyScores<'a> {
    /// The strategy.
    pub strategy: Strategy,
    /// Scores by budget, then problem.
    pub scores: &'a [Vec<f64>],
}

/// Splits `tasks` into `count` bands and compares every strategy with
/// uniform in each.
pub fn allocator_bands(
    tasks: &[Task],
    strategies: &[StrategyScores<'_>],
    budgets: &[usize],
    count: usize,
    repeats: usize,
    seed: u64,
) -> Vec<AllocatorBand> {
    let Some(uniform) = strategies.iter().find(|s| s.strategy == Strategy::Uniform) else {
        return Vec::new();
    };
    split(tasks, count)
        .into_iter()
        .enumerate()
        .map(|(b, members)| {
            let (pass_rate_lo, pass_rate_hi) = pass_rate_range(tasks, &members);
            AllocatorBand {
                band: b + 1,
                tasks: members.len(),
                pass_rate_lo,
                pass_rate_hi,
                gains: strategies
                    .iter()
                    .filter(|s| s.strategy != Strategy::Uniform)
                    .map(|s| {
                        let points = budgets
                            .iter()
                            .enumerate()
                            .map(|(k, &budget)| BudgetGain {
                                budget,
                                gain: paired_gain(
                                    &s.scores[k],
                                    &uniform.scores[k],
                                    &members,
                                    repeats,
                                    seed ^ ((b as u64) << 32) ^ k as u64,
                                ),
                            })
                            .collect();
                        (s.strategy.as_str(), points)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The Markdown table at one budget: a row per band, a column per
/// strategy, gains in points with their intervals.
pub fn markdown(bands: &[AllocatorBand], budget: usize) -> String {
    let mut md = String::new();
    let Some(first) = bands.first() else {
        return md;
    };
    let names: Vec<&str> = first.gains.keys().copied().collect();
    let _ = writeln!(
        md,
        "each strategy's accuracy minus uniform's (points) at {budget} test generations per problem, per quintile of the policy's pass rate (hardest first); 95% interval from redrawing the quintile's problems\n"
    );
    md += "| quintile | problems | pass rate |";
    for n in &names {
        let _ = write!(md, " {n} |");
    }
    md += "\n|---|---|---|";
    md += &"---|".repeat(names.len());
    md += "\n";
    for b in bands {
        let _ = write!(
            md,
            "| {} | {} | {:.2}–{:.2} |",
            b.band, b.tasks, b.pass_rate_lo, b.pass_rate_hi
        );
        for n in &names {
            match b
                .gains
                .get(n)
                .and_then(|g| g.iter().find(|x| x.budget == budget))
            {
                Some(x) => {
                    let _ = write!(md, " {} |", gain_cell(&x.gain));
                }
                None => md += " – |",
            }
        }
        md += "\n";
    }
    md
}
