//! Per-worker cgroups (v1 memory and pids controllers).
//!
//! Memory is limited by a cgroup rather than `RLIMIT_AS` because address-space
//! limits break numpy's OpenBLAS threads, and process counts by the pids
//! controller because `RLIMIT_NPROC` is ignored for root and counted per
//! user across all parallel sandboxes. Each worker gets its own group; the
//! zygote reads the group's OOM-kill counter to tell a memory verdict from
//! any other kill.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const MEMORY_ROOT: &str = "/sys/fs/cgroup/memory";
const PIDS_ROOT: &str = "/sys/fs/cgroup/pids";

/// One worker's memory and pids groups, removed on drop.
#[derive(Debug)]
pub(crate) struct WorkerCgroup {
    memory: PathBuf,
    pids: PathBuf,
}

/// Whether cgroup v1 memory and pids controllers can be used here.
pub(crate) fn available() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && Path::new(MEMORY_ROOT)
        .join("memory.limit_in_bytes")
        .exists()
        && Path::new(PIDS_ROOT).join("cgroup.procs").exists()
}

impl WorkerCgroup {
    /// Creates the groups for worker `name` with the given limits.
    ///
    /// `memory_bytes` covers the zygote as well as the runner, so callers add
    /// the zygote's own footprint.
    pub(crate) fn create(name: &str, memory_bytes: u64, nproc: u64) -> io::Result<WorkerCgroup> {
        let memory = Path::new(MEMORY_ROOT).join("codejury").join(name);
        let pids = Path::new(PIDS_ROOT).join("codejury").join(name);
        fs::create_dir_all(&memory)?;
        fs::create_dir_all(&pids)?;
        let group = WorkerCgroup { memory, pids };
        fs::write(
            group.memory.join("memory.limit_in_bytes"),
            memory_bytes.to_string(),
        )?;
        // Without swap accounting this file is absent; then swap is not limited.
        let memsw = group.memory.join("memory.memsw.limit_in_bytes");
        if memsw.exists() {
            let _ = fs::write(memsw, memory_bytes.to_string());
        }
        fs::write(group.pids.join("pids.max"), nproc.to_string())?;
        Ok(group)
    }

    /// Changes the memory limit (for a job with other limits).
    pub(crate) fn set_memory(&self, memory_bytes: u64) -> io::Result<()> {
        let memsw = self.memory.join("memory.memsw.limit_in_bytes");
        let mem = self.memory.join("memory.limit_in_bytes");
        // memsw must stay >= mem: raise memsw first when growing, last when shrinking.
        let current: u64 = fs::read_to_string(&mem)?.trim().parse().unwrap_or(u64::MAX);
        if memsw.exists() && memory_bytes > current {
            fs::write(&memsw, memory_bytes.to_string())?;
        }
        fs::write(&mem, memory_bytes.to_string())?;
        if memsw.exists() && memory_bytes <= current {
            fs::write(&memsw, memory_bytes.to_string())?;
        }
        Ok(())
    }

    /// The `cgroup.procs` files a spawned process writes its pid into.
    pub(crate) fn procs_files(&self) -> [PathBuf; 2] {
        [
            self.memory.join("cgroup.procs"),
            self.pids.join("cgroup.procs"),
        ]
    }

    /// The file whose `oom_kill` line counts OOM kills in this group.
    pub(crate) fn oom_control(&self) -> PathBuf {
        self.memory.join("memory.oom_control")
    }
}

impl Drop for WorkerCgroup {
    fn drop(&mut self) {
        // Anything still in the group is a leftover: kill it, then remove the group.
        for dir in [&self.pids, &self.memory] {
            if let Ok(procs) = fs::read_to_string(dir.join("cgroup.procs")) {
                for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    // SAFETY: sending a signal has no memory-safety preconditions.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        for _ in 0..50 {
            let a = fs::remove_dir(&self.pids);
            let b = fs::remove_dir(&self.memory);
            if (a.is_ok() || !self.pids.exists()) && (b.is_ok() || !self.memory.exists()) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        tracing::warn!(memory = %self.memory.display(), "could not remove a worker cgroup");
    }
}
