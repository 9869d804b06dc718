//! The pieces every command starts from: a language with the sandbox that
//! runs it, and the run store.

use crate::config::EngineSettings;
use crate::error::Result;
use codejury_core::Language;
use codejury_python::{Python, PythonToolchain};
use codejury_sandbox::{Engine, EngineConfig};
use codejury_store::Store;
use std::path::Path;
use std::sync::Arc;

/// A language and the engine that runs its programs. `Sync`: one sandbox
/// serves every caller of a process.
pub struct Sandbox {
    language: Arc<dyn Language>,
    engine: Engine,
}

impl Sandbox {
    /// Starts the sandbox for Python, the language of every benchmark
    /// codejury grades today: resolves the interpreter and proves the
    /// isolation by starting a worker.
    pub fn start(settings: &EngineSettings) -> Result<Sandbox> {
        let toolchain = match &settings.python {
            Some(p) => PythonToolchain::named(&p.to_string_lossy())?,
            None => PythonToolchain::resolve()?,
        };
        let language = Arc::new(Python::new(&toolchain));
        let mut config = EngineConfig {
            mode: settings.mode,
            ..EngineConfig::default()
        };
        if let Some(w) = settings.workers {
            config.workers = w.max(1);
        }
        let engine = Engine::new(config, Arc::new(toolchain))?;
        Ok(Sandbox { language, engine })
    }

    /// The language.
    pub fn language(&self) -> &dyn Language {
        self.language.as_ref()
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Opens the run store at `path`, or at `$CODEJURY_CACHE_DIR/store.sqlite`.
pub fn open_store(path: Option<&Path>) -> Result<Store> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => codejury_bench::fetch::cache_dir().join("store.sqlite"),
    };
    Ok(Store::open(&path)?)
}
