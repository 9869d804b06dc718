//! The report's test-scaling curve against what it costs, for a pool that
//! recorded its calls (a `run`, or `eval` on a run's directory): at k
//! distinct tests per problem, the tester's tokens, the policy's and
//! tester's FLOPs when both sizes are known, and the seconds per problem of
//! the policy's calls plus k tests' share of the tester's calls and of the
//! sandbox's time running them against every distinct candidate.
//!
//! A problem's tester cost is spread evenly over the distinct tests its
//! generations gave (a generation that gave none still cost its call), so
//! k tests cost k such shares, up to the problem's own count.

use crate::cost;
use crate::execute::Executed;
use serde::Serialize;

/// The cost of one point of the test-scaling curve, per problem.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CostAt {
    /// Distinct tests per problem.
    pub k: usize,
    /// The policy's tokens (every candidate) plus the tester's for k tests.
    pub tokens: f64,
    /// The tester's tokens for k tests.
    pub tester_tokens: f64,
    /// 2 × parameters × tokens, policy plus tester, when both sizes are known.
    pub flops: Option<f64>,
    /// The policy's calls, k tests' share of the tester's calls, and the
    /// sandbox running k tests against every distinct candidate, one after
    /// another.
    pub latency_s: f64,
}

/// Per problem: the policy's (tokens, seconds), and per distinct test the
/// tester's (tokens, seconds) share plus the sandbox's seconds for it.
struct ProblemCost {
    policy_tokens: f64,
    policy_s: f64,
    tests: usize,
    per_test_tokens: f64,
    per_test_s: f64,
}

/// The curve at `ks`, or `None` when the pool recorded no usage.
pub fn cost_curve(
    executed: &Executed,
    ks: &[usize],
    policy_params: Option<u64>,
    tester_params: Option<u64>,
) -> Option<Vec<CostAt>> {
    let pool = &executed.pool;
    if !cost::recorded(pool) {
        return None;
    }
    let problems: Vec<ProblemCost> = pool
        .tasks
        .iter()
        .zip(&executed.pair_ms)
        .map(|(t, pairs)| {
            let sum = |u: &[Option<crate::pool::Recorded>],
                       f: fn(&crate::pool::Recorded) -> f64| {
                u.iter().flatten().map(f).sum::<f64>()
            };
            let tests = t.tests.len();
            let exec_ms: f64 = pairs.iter().flatten().sum();
            let per = |x: f64| if tests == 0 { 0.0 } else { x / tests as f64 };
            ProblemCost {
                policy_tokens: sum(&t.candidate_usage, |u| u.tokens()),
                policy_s: sum(&t.candidate_usage, |u| u.latency_ms) / 1e3,
                tests,
                per_test_tokens: per(sum(&t.generation_usage, |u| u.tokens())),
                per_test_s: per(sum(&t.generation_usage, |u| u.latency_ms) + exec_ms) / 1e3,
            }
        })
        .collect();
    let p = problems.len().max(1) as f64;
    Some(
        ks.iter()
            .map(|&k| {
                let (mut policy, mut tester, mut seconds) = (0.0, 0.0, 0.0);
                for c in &problems {
                    let used = k.min(c.tests) as f64;
                    policy += c.policy_tokens;
                    tester += used * c.per_test_tokens;
                    seconds += c.policy_s + used * c.per_test_s;
                }
                let (policy, tester) = (policy / p, tester / p);
                CostAt {
                    k,
                    tokens: policy + tester,
                    tester_tokens: tester,
                    flops: policy_params
                        .zip(tester_params)
                        .map(|(a, b)| cost::flops(a, policy) + cost::flops(b, tester)),
                    latency_s: seconds / p,
                }
            })
            .collect(),
    )
}
