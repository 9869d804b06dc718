//! The language half of the sandbox: how a language's programs are built
//! and run, behind one trait.
//!
//! The engine knows processes, walls and a wire protocol; it does not know
//! any language. A [`Toolchain`] tells it how to start a *worker* (a warm
//! process of the language's runtime, the zygote, that speaks the wire
//! protocol on its stdin and stdout and runs each pair in a process of its
//! own), what every cache key of its verdicts must include, how memory is
//! limited where the kernel offers no cgroups, and how a candidate is built
//! before its pairs run.
//!
//! The wire protocol, one JSON object per line:
//!
//! - the worker first writes `{"ready": true, ...}`;
//! - the engine writes a job: `{"job", "code", "entry_point", "prelude",
//!   "tests": [{"format", "code", "data"}], "mode": "faithful"|"fast",
//!   "limits": {"wall_ms", "cpu_ms", "memory_bytes", "fsize_bytes",
//!   "output_bytes", "rlimit_as_bytes"?, "rlimit_nproc"?}}`;
//! - the worker answers one `{"job", "test", "verdict", "message",
//!   "cpu_ms", "wall_ms", "value"?, "prof"?}` per test, in any order, then
//!   `{"job", "done": true}`; `test` indexes the job's `tests` as sent;
//! - after a test that timed out, a worker may hand the tests it has not
//!   started back with `{"job", "yield": [test, ...]}` before `done`: the
//!   engine queues them again, split in two, for any free worker, so one
//!   slow candidate never holds one worker's queue for all its tests.
//!
//! A worker that dies, hangs or breaks the protocol costs its job
//! `sandbox-error` verdicts and is restarted; it can never produce a pass.

use crate::Job;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// How to start one worker process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The program (an absolute path: the environment is scrubbed).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Environment variables set on top of the engine's scrubbed set.
    pub env: Vec<(OsString, OsString)>,
}

/// How a language's memory is limited where there are no cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryFallback {
    /// `RLIMIT_AS` of the pair's limit plus this much: right for runtimes
    /// whose address space tracks their use (CPython).
    AddressSpace {
        /// Address space granted beyond the pair's memory limit.
        headroom_bytes: u64,
    },
    /// No limit without cgroups: runtimes that reserve far more address
    /// space than they use (a JVM, V8) cannot start under `RLIMIT_AS`. The
    /// engine says the limit is degraded.
    None,
}

/// Memory a worker needs and how it is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryPolicy {
    /// The warm runtime's own footprint, added to the pair's limit in the
    /// worker's cgroup (the zygote lives in the same group as its runners).
    pub worker_bytes: u64,
    /// What replaces the cgroup limit when there is none.
    pub fallback: MemoryFallback,
}

/// Why a candidate could not be built: every pair of its job gets an
/// `error` verdict with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BuildFailure(pub String);

/// One language's way of building and running programs.
pub trait Toolchain: Send + Sync + fmt::Debug {
    /// The language, as benchmarks spell it (`python`).
    fn language(&self) -> &str;

    /// What identifies the behaviour of this toolchain in every cache key:
    /// a hash of its harness and the version of its runtime — never a path,
    /// so two machines with the same toolchain share results, and never a
    /// `Debug` rendering, which changes without notice.
    fn fingerprint(&self) -> &str;

    /// How to start a worker.
    fn launch(&self) -> Launch;

    /// How much memory a worker needs and how it is limited.
    fn memory(&self) -> MemoryPolicy;

    /// Wall-clock time a worker may spend building a pair's program before
    /// it answers, on top of the pair's own limit: the watchdog waits this
    /// much longer before it calls a compiling worker stuck. Languages
    /// whose harness builds nothing need none (the default).
    fn build_allowance_ms(&self) -> u64 {
        0
    }

    /// Builds a job's candidate before its pairs run. Interpreted languages
    /// have nothing to build (the default); a failure is an `error` verdict
    /// for every pair of the job, never a sandbox error.
    fn build(&self, job: &Job) -> Result<(), BuildFailure> {
        let _ = job;
        Ok(())
    }
}
