//! The pieces every command starts from: a language with the sandbox that
//! runs it, and the run store.

use crate::config::EngineSettings;
use crate::error::Result;
use codejury_core::{Lang, Language};
use codejury_langs::{ExecLanguage, ExecToolchain};
use codejury_python::{Python, PythonToolchain};
use codejury_sandbox::{Engine, EngineConfig, Mode, Toolchain};
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
    /// Starts the sandbox for `settings.language`: resolves its toolchain
    /// (the interpreter, or the compilers and runtimes of a process
    /// language, with an error naming what to install when one is missing)
    /// and proves the isolation by starting a worker.
    pub fn start(settings: &EngineSettings) -> Result<Sandbox> {
        let (language, toolchain): (Arc<dyn Language>, Arc<dyn Toolchain>) = match settings.language
        {
            Lang::Python => {
                let toolchain = match &settings.python {
                    Some(p) => PythonToolchain::named(&p.to_string_lossy())?,
                    None => PythonToolchain::resolve()?,
                };
                (Arc::new(Python::new(&toolchain)), Arc::new(toolchain))
            }
            lang => {
                let mut toolchain =
                    ExecToolchain::resolve(lang, &codejury_bench::fetch::cache_dir())?;
                // Fast mode forks script interpreters that start once per
                // worker; faithful mode starts one per pair, as mxeval does.
                if settings.mode == Mode::Fast {
                    toolchain = toolchain.warm();
                }
                let language = ExecLanguage::new(lang).ok_or_else(|| {
                    crate::Error::Config(format!("{lang} has no process harness"))
                })?;
                (Arc::new(language), Arc::new(toolchain))
            }
        };
        let mut config = EngineConfig {
            mode: settings.mode,
            ..EngineConfig::default()
        };
        if let Some(w) = settings.workers {
            config.workers = w.max(1);
        }
        let engine = Engine::new(config, toolchain)?;
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
