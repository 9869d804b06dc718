//! Runs untrusted, LLM-written Python against unit tests, fast and isolated.
//!
//! A process per (candidate, test) pair costs milliseconds while a typical
//! test runs in microseconds, so the engine pays interpreter start-up once: a
//! warm interpreter (the *zygote*, [`harness.py`](harness.py)) per worker is
//! started inside the worker's isolation and forks a runner per pair
//! ([`Mode::Faithful`], the paper's fresh-process semantics) or per candidate
//! ([`Mode::Fast`]). The Rust side feeds jobs, enforces a watchdog on every
//! worker, and turns whatever happens — including its own crashes — into a
//! [`Verdict`](codejury_core::Verdict) per pair, never a silent pass.
//!
//! ```no_run
//! use codejury_core::{TestCase, TestFormat};
//! use codejury_sandbox::{Engine, EngineConfig, Job, Limits};
//!
//! let engine = Engine::new(EngineConfig::default())?;
//! let job = Job {
//!     candidate: "def add(a, b):\n    return a + b\n".into(),
//!     entry_point: Some("add".into()),
//!     prelude: None,
//!     tests: vec![TestCase::new(TestFormat::Assert, "assert add(1, 2) == 3")],
//!     limits: Limits::default(),
//! };
//! engine.run(vec![job], |outcome| {
//!     println!("{} {}", outcome.test, outcome.verdict);
//!     true
//! })?;
//! # Ok::<(), codejury_sandbox::SandboxError>(())
//! ```

mod cgroup;
mod engine;
mod error;
pub mod isolation;
mod limits;
pub mod python;
mod worker;

pub use engine::{Engine, EngineConfig, Job, Mode, PairOutcome, Runner};
pub use error::SandboxError;
pub use isolation::IsolationReport;
pub use limits::Limits;

/// Source of the zygote: embedded so the binary is self-contained.
pub(crate) const HARNESS: &str = include_str!("harness.py");

/// The zygote's source. Stores of results key on it, so that a change to
/// how pairs are judged never serves verdicts the old code gave.
pub fn harness_source() -> &'static str {
    HARNESS
}
