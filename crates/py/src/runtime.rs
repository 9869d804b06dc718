//! The process's one sandbox and run store, started on first use.
//!
//! Every call of a Python process shares one engine (its warm workers and
//! the cap on parallel pairs) and one store (verdicts by content), as
//! `codejury serve` does: threads calling at once queue in the engine
//! instead of oversubscribing the cores.

use crate::errors::{bad_argument, to_py, SandboxError};
use codejury_bench::{Benchmark, Dataset};
use codejury_pipeline::config::EngineSettings;
use codejury_pipeline::{open_store, Sandbox};
use codejury_store::Store;
use pyo3::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// What `codejury.configure` sets: the engine and the store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Settings {
    /// Workers, mode, interpreter.
    pub(crate) engine: EngineSettings,
    /// The run store (`None`: `$CODEJURY_CACHE_DIR/store.sqlite`).
    pub(crate) store: Option<PathBuf>,
}

/// Benchmarks loaded so far, by name and local file.
type Datasets = Mutex<HashMap<(Benchmark, Option<PathBuf>), Arc<Dataset>>>;

/// The started engine and store.
pub(crate) struct Runtime {
    pub(crate) sandbox: Sandbox,
    pub(crate) store: Store,
    datasets: Datasets,
    settings: Settings,
    pid: u32,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static PENDING: Mutex<Option<Settings>> = Mutex::new(None);

/// Sets what the engine starts with. Before the first call it replaces
/// any earlier setting; after, it is accepted only when it changes
/// nothing (a second engine in one process would double the workers).
pub(crate) fn configure(settings: Settings) -> PyResult<()> {
    if let Some(rt) = RUNTIME.get() {
        if rt.settings == settings {
            return Ok(());
        }
        return Err(bad_argument(format!(
            "codejury's engine already started with {}; call configure() before the first call",
            serde_json::to_string(&rt.settings).unwrap_or_default()
        )));
    }
    *PENDING.lock().unwrap_or_else(|p| p.into_inner()) = Some(settings);
    Ok(())
}

/// Whether the engine has started.
pub(crate) fn started() -> bool {
    RUNTIME.get().is_some()
}

/// The runtime, started now if it has not been (with the GIL released:
/// starting proves the isolation by starting a worker).
pub(crate) fn get(py: Python<'_>) -> PyResult<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return check_pid(rt);
    }
    // Waiting for the lock, and starting, without the GIL: another thread
    // may be starting the runtime and need the GIL to finish.
    let started = py.detach(|| -> codejury_pipeline::Result<&'static Runtime> {
        let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(rt) = RUNTIME.get() {
            return Ok(rt);
        }
        let settings = pending.clone().unwrap_or_default();
        let sandbox = Sandbox::start(&settings.engine)?;
        let store = open_store(settings.store.as_deref())?;
        *pending = None;
        Ok(RUNTIME.get_or_init(|| Runtime {
            sandbox,
            store,
            datasets: Mutex::new(HashMap::new()),
            settings,
            pid: std::process::id(),
        }))
    });
    check_pid(started.map_err(to_py)?)
}

/// The engine's threads live in the process that started it: a forked
/// child has none of them, so it must not use the engine it inherited.
fn check_pid(rt: &'static Runtime) -> PyResult<&'static Runtime> {
    if rt.pid == std::process::id() {
        Ok(rt)
    } else {
        Err(SandboxError::new_err(format!(
            "codejury's engine was started in process {} and this process was forked from it; \
             its threads do not survive a fork: use codejury only after forking \
             (multiprocessing's 'spawn' or 'forkserver' start method)",
            rt.pid
        )))
    }
}

impl Runtime {
    /// A benchmark, loaded once per process.
    pub(crate) fn dataset(
        &self,
        bench: Benchmark,
        path: Option<PathBuf>,
    ) -> codejury_pipeline::Result<Arc<Dataset>> {
        let key = (bench, path);
        if let Some(d) = self
            .datasets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(d.clone());
        }
        let d = Arc::new(Dataset::load(bench, key.1.as_deref())?);
        self.datasets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, d.clone());
        Ok(d)
    }
}
