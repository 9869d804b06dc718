//! Runs untrusted, LLM-written programs against unit tests, fast and
//! isolated, in any language a [`Toolchain`] describes.
//!
//! A process per (candidate, test) pair costs milliseconds while a typical
//! test runs in microseconds, so the engine pays a runtime's start-up once:
//! a warm process (the *zygote*) per worker is started inside the worker's
//! isolation and forks a runner per pair ([`Mode::Faithful`], the paper's
//! fresh-process semantics) or per candidate ([`Mode::Fast`]). The Rust
//! side feeds jobs, enforces a watchdog on every worker, and turns whatever
//! happens — including its own crashes — into a
//! [`Verdict`](codejury_core::Verdict) per pair, pushed into a
//! [`VerdictSink`]; never a silent pass.
//!
//! - [`isolation`]: namespaces, cgroups, landlock, seccomp, and what this
//!   machine offers of them;
//! - [`toolchain`]: the language half — how a worker starts, what keys its
//!   verdicts, how memory is limited, how a candidate is built — and the
//!   wire protocol a worker speaks;
//! - [`sink`]: where verdicts go.
//!
//! ```no_run
//! use codejury_core::{TestCase, TestFormat};
//! use codejury_sandbox::{sinks, Engine, EngineConfig, Job, Limits, SandboxError, Toolchain};
//! use std::sync::Arc;
//!
//! # fn demo(python: Arc<dyn Toolchain>) -> Result<(), SandboxError> {
//! let engine = Engine::new(EngineConfig::default(), python)?;
//! let job = Job {
//!     candidate: "def add(a, b):\n    return a + b\n".into(),
//!     entry_point: Some("add".into()),
//!     prelude: None,
//!     tests: vec![TestCase::new(TestFormat::new("assert"), "assert add(1, 2) == 3")],
//!     limits: Limits::default(),
//! };
//! engine.run(vec![job], &mut sinks::from_fn(|outcome| {
//!     println!("{} {}", outcome.test, outcome.verdict);
//!     Ok::<_, SandboxError>(true)
//! }))?;
//! # Ok(()) }
//! ```

#![warn(missing_docs, unreachable_pub)]

mod cgroup;
mod engine;
mod error;
pub mod isolation;
mod limits;
mod queue;
pub mod sink;
pub mod toolchain;
mod worker;

pub use engine::{Engine, EngineConfig, Job, Mode, PairOutcome, RunProfile, Runner, WorkerProfile};
pub use error::SandboxError;
pub use isolation::IsolationReport;
pub use limits::Limits;
pub use sink::{sinks, VerdictSink};
pub use toolchain::{BuildFailure, Launch, MemoryFallback, MemoryPolicy, Toolchain};
