//! codejury's pipeline as a library: the one implementation the command
//! line, a server and a Python module all call.
//!
//! Data flows one way, and every arrow is resumable and cached by content
//! hash in the run store:
//!
//! ```text
//!  problems ──generate──▶ candidates, tests ──pool──▶ Pool ──execute──▶ verdict matrix
//!  (bench)    (backend,    (model text, or     (PoolBuilder:   (sandbox,   + ground-truth labels
//!              generate)    files)              one validation) store)             │
//!                                                                          vote (core::select)
//!                                                                                  ▼
//!                                                                      report (Summary, files)
//! ```
//!
//! - [`config`]: typed, serde-serialisable settings of every command;
//! - [`session`]: the [`Sandbox`] (a language and its engine) and the store;
//! - [`backend`] and [`generate`]: models, and sampling through the store;
//! - [`pool`]: candidates and tests per problem, screened and deduplicated
//!   one way for every source;
//! - [`execute`]: labels and the verdict matrix through the store;
//! - [`report`]: the numbers, curves and files every command writes;
//! - [`judge`]: one problem's matrix and vote, and one program's reward,
//!   as a service answers them; [`program`]: one whole program's run;
//! - [`run`], [`eval`], [`scale`], [`exec`], [`label`], [`select`],
//!   [`bench`](mod@bench): the commands, each a function from a config to a typed,
//!   serialisable result;
//! - [`reporter`]: progress, pushed to whoever shows it; cancellation is a
//!   [`CancellationToken`], and errors carry hints as data ([`Hint`]).
//!
//! ```no_run
//! use codejury_pipeline::config::{BenchSpec, EvalConfig, PoolFiles};
//! use codejury_pipeline::reporter::Silent;
//! use codejury_pipeline::{eval, open_store, CancellationToken, Sandbox};
//! use codejury_bench::Benchmark;
//!
//! let config = EvalConfig {
//!     bench: BenchSpec { bench: Benchmark::HumanEval, data: None },
//!     pool: PoolFiles {
//!         solutions: "solutions.jsonl".into(),
//!         tests: "tests.jsonl".into(),
//!         codet_test_unit: Default::default(),
//!     },
//!     limits: Default::default(),
//!     engine: Default::default(),
//!     store: None,
//!     out: "report".into(),
//!     repeats: 20,
//!     seed: 0,
//! };
//! let sandbox = Sandbox::start(&config.engine)?;
//! let store = open_store(config.store.as_deref())?;
//! let summary = eval::eval(&sandbox, &store, &config, &Silent, &CancellationToken::new())?;
//! println!("coderm picks a correct program {:.2}% of the time", 100.0 * summary.report.accuracy(codejury_core::Rule::Coderm));
//! # Ok::<(), codejury_pipeline::Error>(())
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod allocator_bands;
pub mod backend;
pub mod bench;
pub mod config;
pub mod cost;
mod error;
pub mod eval;
pub mod exec;
pub mod execute;
pub mod generate;
pub mod judge;
pub mod label;
pub mod online_folds;
pub mod pool;
pub mod program;
pub mod report;
pub mod reporter;
pub mod run;
pub mod scale;
pub mod select;
pub mod session;
pub mod study;

pub use codejury_core::Hint;
pub use error::{Error, Result};
pub use session::{open_store, Sandbox};
pub use tokio_util::sync::CancellationToken;
