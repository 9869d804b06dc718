//! Resource limits applied to every (candidate, test) pair.

use serde::{Deserialize, Serialize};

/// Limits for one pair. CPU time decides a time-out: the zygote reads each
/// running pair's CPU time and stops it at the limit (the kernel's
/// `RLIMIT_CPU` a second later is the backstop), so a verdict does not
/// depend on what else the machine runs. Wall time is only a backstop for
/// code that blocks instead of computing, enforced by the zygote and by the
/// Rust watchdog behind it. File size and (without cgroups) memory and
/// process count are rlimits; memory and process count are the worker's
/// cgroup where the kernel offers one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock time per pair, in milliseconds: the backstop for code
    /// that sleeps or waits (see [`Limits::wall_backstop`]).
    pub wall_ms: u64,
    /// CPU time per pair, in milliseconds (the paper's harness: 1 s).
    pub cpu_ms: u64,
    /// Memory per pair, in bytes.
    pub memory_bytes: u64,
    /// Processes (and threads) a worker may hold at once.
    pub nproc: u64,
    /// Largest file a pair may write, in bytes.
    pub fsize_bytes: u64,
    /// Bytes of stdout plus stderr a pair may write before it is stopped.
    pub output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_ms: Limits::wall_backstop(1_000),
            cpu_ms: 1_000,
            memory_bytes: 1 << 30,
            nproc: 64,
            fsize_bytes: 16 << 20,
            output_bytes: 1 << 20,
        }
    }
}

impl Limits {
    /// The same limits with `ms` of CPU time per pair and the wall-clock
    /// backstop that goes with it.
    pub fn with_time_ms(mut self, ms: u64) -> Self {
        self.cpu_ms = ms;
        self.wall_ms = Limits::wall_backstop(ms);
        self
    }

    /// The wall-clock backstop for a CPU limit: three times it, and at
    /// least a second more. Generous on purpose — a pair that computes is
    /// stopped by its CPU time, so the wall clock only ever stops code that
    /// blocks, and a loaded machine (or more workers than cores) cannot
    /// turn a pass into a time-out.
    pub fn wall_backstop(cpu_ms: u64) -> u64 {
        cpu_ms.saturating_mul(3).max(cpu_ms.saturating_add(1_000))
    }
}
