//! Resource limits applied to every (candidate, test) pair.

use serde::{Deserialize, Serialize};

/// Limits for one pair. Wall time is enforced by the zygote and backed by
/// the Rust watchdog; CPU, file size and (without cgroups) memory and
/// process count by rlimits; memory and process count by the worker's
/// cgroup where the kernel offers one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock time per pair, in milliseconds (the paper's harness: 1 s).
    pub wall_ms: u64,
    /// CPU time per pair, in milliseconds (rounded up to whole seconds by
    /// the kernel's rlimit).
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
            wall_ms: 1_000,
            cpu_ms: 1_000,
            memory_bytes: 1 << 30,
            nproc: 64,
            fsize_bytes: 16 << 20,
            output_bytes: 1 << 20,
        }
    }
}

impl Limits {
    /// The same limits with a different wall time (and CPU time to match).
    pub fn with_time_ms(mut self, ms: u64) -> Self {
        self.wall_ms = ms;
        self.cpu_ms = ms;
        self
    }
}
