//! One worker: a zygote process and the pipes to it.

use crate::cgroup::WorkerCgroup;
use crate::isolation::{worker_command, IsolationReport, WorkerSpec};
use crate::SandboxError;
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError};
use seccompiler::BpfProgram;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::sync::Arc;
use std::time::Duration;

/// How long a fresh zygote may take to import its modules and say ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Zygote footprint added to the per-pair memory limit of a worker's cgroup.
pub(crate) const ZYGOTE_BYTES: u64 = 96 << 20;

/// What every worker of an engine shares.
pub(crate) struct WorkerContext {
    pub python: PathBuf,
    pub layers: IsolationReport,
    pub seccomp: Arc<BpfProgram>,
    pub tmpfs_bytes: u64,
}

/// A running zygote.
pub(crate) struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    cgroup: Option<WorkerCgroup>,
    memory_limit: u64,
}

impl Worker {
    /// Starts a zygote in `scratch` and waits until it is ready.
    pub(crate) fn spawn(
        ctx: &WorkerContext,
        name: &str,
        scratch: &Path,
        memory_bytes: u64,
        nproc: u64,
    ) -> Result<Worker, SandboxError> {
        std::fs::create_dir_all(scratch).map_err(|source| SandboxError::Scratch {
            path: scratch.to_path_buf(),
            source,
        })?;
        let cgroup = if ctx.layers.cgroups {
            Some(
                WorkerCgroup::create(name, memory_bytes + ZYGOTE_BYTES, nproc)
                    .map_err(SandboxError::Spawn)?,
            )
        } else {
            None
        };
        let spec = WorkerSpec {
            python: &ctx.python,
            scratch,
            cgroup: cgroup.as_ref(),
            layers: ctx.layers,
            seccomp: ctx.seccomp.clone(),
            tmpfs_bytes: ctx.tmpfs_bytes,
        };
        let mut child = worker_command(&spec)
            .and_then(|mut c| c.spawn())
            .map_err(SandboxError::Spawn)?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| SandboxError::Handshake("no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| SandboxError::Handshake("no stdout".into()))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| SandboxError::Handshake("no stderr".into()))?;
        let (tx, lines) = unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let worker_name = name.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                tracing::debug!(worker = %worker_name, "zygote stderr: {line}");
            }
        });
        let mut worker = Worker {
            child,
            stdin,
            lines,
            cgroup,
            memory_limit: memory_bytes,
        };
        match worker.lines.recv_timeout(READY_TIMEOUT) {
            Ok(line) if line.contains("\"ready\"") => Ok(worker),
            Ok(line) => {
                worker.kill();
                Err(SandboxError::Handshake(format!(
                    "unexpected first line {line:?}"
                )))
            }
            Err(_) => {
                let status = worker.child.wait().ok();
                Err(SandboxError::Handshake(format!(
                    "the zygote exited before it was ready ({status:?}); run with RUST_LOG=debug to see its stderr"
                )))
            }
        }
    }

    /// Sets the cgroup memory limit for the next job, if it changed.
    pub(crate) fn set_memory(&mut self, memory_bytes: u64) {
        if memory_bytes != self.memory_limit {
            if let Some(group) = &self.cgroup {
                if let Err(e) = group.set_memory(memory_bytes + ZYGOTE_BYTES) {
                    tracing::warn!("cannot change the worker's memory limit: {e}");
                }
            }
            self.memory_limit = memory_bytes;
        }
    }

    /// Sends one job line.
    pub(crate) fn send(&mut self, line: &str) -> std::io::Result<()> {
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()
    }

    /// The next line from the zygote, or why there is none.
    pub(crate) fn recv(&self, timeout: Duration) -> Result<String, RecvTimeoutError> {
        self.lines.recv_timeout(timeout)
    }

    /// Kills the zygote; in a PID namespace the kernel takes every process
    /// in it along.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}
