//! The outcome of running one candidate against one test.
//!
//! A verdict is an enum rather than a bool because the reasons a pair does
//! not pass matter to users (a timeout under load is not a wrong answer) and
//! to the selection rules' diagnostics; only [`Verdict::Pass`] counts as a
//! pass, so a crash of the harness can never be mistaken for one.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a (candidate, test) pair passed or did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The test ran to completion and succeeded.
    Pass,
    /// An assertion failed (the candidate computed a wrong answer).
    Fail,
    /// Any other exception, a syntax error, or an early exit of the candidate.
    Error,
    /// The wall-clock or CPU limit was reached.
    Timeout,
    /// The memory limit was reached.
    Memory,
    /// The candidate wrote more than the output limit to stdout/stderr.
    OutputLimit,
    /// The process died from a signal nobody in the harness sent on purpose.
    Killed,
    /// The sandbox itself failed; the pair was never judged.
    SandboxError,
}

impl Verdict {
    /// All verdicts, in a stable order for reports.
    pub const ALL: [Verdict; 8] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Error,
        Verdict::Timeout,
        Verdict::Memory,
        Verdict::OutputLimit,
        Verdict::Killed,
        Verdict::SandboxError,
    ];

    /// True only for [`Verdict::Pass`]: the single value the vote counts.
    pub fn passed(self) -> bool {
        self == Verdict::Pass
    }

    /// The kebab-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Timeout => "timeout",
            Verdict::Memory => "memory",
            Verdict::OutputLimit => "output-limit",
            Verdict::Killed => "killed",
            Verdict::SandboxError => "sandbox-error",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that names no verdict.
#[derive(Debug, thiserror::Error)]
#[error("unknown verdict {0:?} (expected one of pass, fail, error, timeout, memory, output-limit, killed, sandbox-error)")]
pub struct UnknownVerdict(pub String);

impl FromStr for Verdict {
    type Err = UnknownVerdict;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownVerdict(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_str_and_json() {
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>().unwrap(), v);
            let j = serde_json::to_string(&v).unwrap();
            assert_eq!(j, format!("\"{}\"", v.as_str()));
        }
        assert!("passed".parse::<Verdict>().is_err());
    }

    #[test]
    fn only_pass_passes() {
        let passing: Vec<_> = Verdict::ALL.into_iter().filter(|v| v.passed()).collect();
        assert_eq!(passing, vec![Verdict::Pass]);
    }
}
