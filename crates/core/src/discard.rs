//! Why a model's text yielded no candidate or no test, counted by reason.
//!
//! Extraction itself is each language's business (fences, statements,
//! classes); what it throws away is reported in one vocabulary, so a run's
//! report can say how much of what it paid for was usable, whatever the
//! language.
//!
//! ```
//! use codejury_core::discard::{Discards, Reject};
//!
//! let mut d = Discards::default();
//! d.add(Reject::NoCodeBlock);
//! d.add(Reject::NoCodeBlock);
//! assert_eq!(d.total(), 2);
//! ```

use serde::Serialize;
use std::collections::BTreeMap;

/// Why a generation (or one piece of it) yielded no test or candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reject {
    /// No fenced code block.
    NoCodeBlock,
    /// More than one fenced code block.
    SeveralCodeBlocks,
    /// No test unit (a `unittest.TestCase` class in Python) in the block.
    NoTestClass,
    /// More than one test unit in the block.
    SeveralClasses,
    /// No assertion calling the entry point.
    NoAssert,
    /// Not a single well-formed statement.
    Malformed,
    /// Identical to a test already kept.
    Duplicate,
    /// Beyond the per-sample cap.
    OverCap,
    /// A code block that does not define the function asked for.
    NoEntryPoint,
    /// Nothing but whitespace.
    Empty,
    /// The model call failed for good (after its retries).
    CallFailed,
    /// Too deeply nested or too large for the language's own parser to
    /// take apart (a recursion or memory error while parsing): kept out so
    /// one pathological generation cannot stop a run.
    TooComplex,
    /// Longer than any test a harness is sent (see the language's cap).
    TooLarge,
}

impl Reject {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::NoCodeBlock => "no-code-block",
            Reject::SeveralCodeBlocks => "several-code-blocks",
            Reject::NoTestClass => "no-test-class",
            Reject::SeveralClasses => "several-classes",
            Reject::NoAssert => "no-assert",
            Reject::Malformed => "malformed",
            Reject::Duplicate => "duplicate",
            Reject::OverCap => "over-cap",
            Reject::NoEntryPoint => "no-entry-point",
            Reject::Empty => "empty",
            Reject::CallFailed => "call-failed",
            Reject::TooComplex => "too-complex",
            Reject::TooLarge => "too-large",
        }
    }
}

/// Counts of discarded generations by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discards(pub BTreeMap<Reject, usize>);

impl Discards {
    /// Counts one discard.
    pub fn add(&mut self, why: Reject) {
        *self.0.entry(why).or_default() += 1;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Discards) {
        for (&k, &n) in &other.0 {
            *self.0.entry(k).or_default() += n;
        }
    }

    /// All discards.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// The count for one reason.
    pub fn count(&self, why: Reject) -> usize {
        self.0.get(&why).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_serialised_form() {
        for r in [Reject::NoCodeBlock, Reject::TooComplex, Reject::OverCap] {
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        let mut a = Discards::default();
        a.add(Reject::Malformed);
        let mut b = Discards::default();
        b.add(Reject::Malformed);
        b.add(Reject::TooLarge);
        a.merge(&b);
        assert_eq!((a.count(Reject::Malformed), a.total()), (2, 3));
    }
}
