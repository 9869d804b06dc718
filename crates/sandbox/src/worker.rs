//! One worker: a zygote process and the pipes to it.

use crate::cgroup::WorkerCgroup;
use crate::isolation::{worker_command, IsolationReport, WorkerSpec};
use crate::toolchain::{Launch, Toolchain};
use crate::SandboxError;
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError};
use seccompiler::BpfProgram;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin};
use std::sync::Arc;
use std::time::Duration;

/// How long a fresh zygote may take to import its modules and say ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// What every worker of an engine shares.
pub(crate) struct WorkerContext {
    pub toolchain: Arc<dyn Toolchain>,
    pub launch: Launch,
    pub layers: IsolationReport,
    pub seccomp: Arc<BpfProgram>,
    pub tmpfs_bytes: u64,
}

impl WorkerContext {
    fn language(&self) -> String {
        self.toolchain.language().to_string()
    }
}

/// A running zygote.
pub(crate) struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    cgroup: Option<WorkerCgroup>,
    memory_limit: u64,
    worker_bytes: u64,
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
        let spawn_error = |source| SandboxError::Spawn {
            language: ctx.language(),
            source,
        };
        let worker_bytes = ctx.toolchain.memory().worker_bytes;
        let cgroup = if ctx.layers.cgroups {
            Some(
                WorkerCgroup::create(name, memory_bytes + worker_bytes, nproc)
                    .map_err(spawn_error)?,
            )
        } else {
            None
        };
        let spec = WorkerSpec {
            launch: &ctx.launch,
            scratch,
            cgroup: cgroup.as_ref(),
            layers: ctx.layers,
            seccomp: ctx.seccomp.clone(),
            tmpfs_bytes: ctx.tmpfs_bytes,
        };
        let mut child = worker_command(&spec)
            .and_then(|mut c| c.spawn())
            .map_err(spawn_error)?;
        let handshake = |reason: &str| SandboxError::Handshake {
            language: ctx.language(),
            reason: reason.to_string(),
        };
        let stdin = child.stdin.take().ok_or_else(|| handshake("no stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| handshake("no stdout"))?;
        let stderr = child.stderr.take().ok_or_else(|| handshake("no stderr"))?;
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
            worker_bytes,
        };
        match worker.lines.recv_timeout(READY_TIMEOUT) {
            Ok(line) if line.contains("\"ready\"") => Ok(worker),
            Ok(line) => {
                worker.kill();
                Err(handshake(&format!("unexpected first line {line:?}")))
            }
            Err(_) => {
                let status = worker.child.wait().ok();
                Err(handshake(&format!(
                    "the worker exited before it was ready ({status:?})"
                )))
            }
        }
    }

    /// Sets the cgroup memory limit for the next job, if it changed.
    pub(crate) fn set_memory(&mut self, memory_bytes: u64) {
        if memory_bytes != self.memory_limit {
            if let Some(group) = &self.cgroup {
                if let Err(e) = group.set_memory(memory_bytes + self.worker_bytes) {
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
