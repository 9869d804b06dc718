//! Progress, pushed to whoever is watching.
//!
//! The pipeline says which stage is running, how much of it is done and
//! what went wrong along the way without stopping it; a [`Reporter`]
//! decides what to show. The command line draws bars on a terminal and
//! plain lines elsewhere; a server or a Python caller can count, log or
//! ignore ([`Silent`]). No terminal code lives in the library.
//!
//! ```
//! use codejury_pipeline::reporter::{Reporter, Stage};
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! #[derive(Default)]
//! struct Count(AtomicU64);
//! impl Reporter for Count {
//!     fn advance(&self, _stage: &Stage, n: u64) {
//!         self.0.fetch_add(n, Ordering::Relaxed);
//!     }
//! }
//! let c = Count::default();
//! c.advance(&Stage::Pairs, 3);
//! assert_eq!(c.0.load(Ordering::Relaxed), 3);
//! ```

use std::fmt;

/// A stage of work whose progress is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Candidate solutions from the policy model.
    Solutions,
    /// Unit tests from the tester model; `Some(k)` for round `k` of an
    /// online purchase.
    Tests(Option<usize>),
    /// Ground-truth labels of distinct programs.
    Labels,
    /// The verdict matrix, pair by pair.
    Pairs,
    /// Hidden states of problems' prompts for the difficulty probe.
    HiddenStates,
    /// Canonical solutions through their ground truth.
    Verify,
    /// One leg of a benchmark (its name).
    Bench(String),
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Solutions => f.write_str("solutions"),
            Stage::Tests(None) => f.write_str("tests"),
            Stage::Tests(Some(k)) => write!(f, "tests (round {k})"),
            Stage::Labels => f.write_str("labels"),
            Stage::Pairs => f.write_str("pairs"),
            Stage::HiddenStates => f.write_str("hidden"),
            Stage::Verify => f.write_str("verifying"),
            Stage::Bench(name) => f.write_str(name),
        }
    }
}

/// Receives progress. Every method has a do-nothing default, so a reporter
/// implements only what it shows. `Sync`: stages may report from worker
/// threads.
pub trait Reporter: Send + Sync {
    /// A stage starts with `total` units of work (`done` of them already
    /// finished, e.g. found in the store).
    fn start(&self, stage: &Stage, total: u64, done: u64) {
        let _ = (stage, total, done);
    }

    /// `n` more units of `stage` are done.
    fn advance(&self, stage: &Stage, n: u64) {
        let _ = (stage, n);
    }

    /// `stage` is over.
    fn finish(&self, stage: &Stage) {
        let _ = stage;
    }

    /// Something failed without stopping the run (one model request, say).
    fn warn(&self, message: &str) {
        let _ = message;
    }
}

/// A reporter that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {}
