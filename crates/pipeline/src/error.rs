//! The pipeline's one error type: what went wrong, from which layer, with
//! the layer's hint kept as data.

use codejury_bench::BenchError;
use codejury_core::{Hint, LanguageError};
use codejury_llm::GenError;
use codejury_python::NoPython;
use codejury_sandbox::SandboxError;
use codejury_store::{CacheError, StoreError};
use std::path::PathBuf;

/// Why a pipeline call failed. Each variant keeps its cause as a source
/// (never repeated in the message), and [`Hint::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A benchmark, sample or pool file is unusable (the message names the
    /// file, the line and the field).
    #[error(transparent)]
    Bench(#[from] BenchError),
    /// The sandbox could not run.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The run store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No usable Python interpreter.
    #[error(transparent)]
    Python(#[from] NoPython),
    /// A process language's compiler or runtime is not installed.
    #[error(transparent)]
    Toolchain(#[from] codejury_langs::MissingTool),
    /// The language's own tools failed (its parser would not run).
    #[error(transparent)]
    Language(#[from] LanguageError),
    /// A model backend could not be set up or failed as a whole.
    #[error(transparent)]
    Generation(#[from] GenError),
    /// A setting is out of range or two settings contradict each other.
    #[error("{0}")]
    Config(String),
    /// The sandbox ran something but its result did not come back whole.
    #[error("the sandbox lost a result: {0}")]
    Lost(String),
    /// An output file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A plot could not be drawn.
    #[error("cannot draw {}: {message}", path.display())]
    Plot {
        /// The file.
        path: PathBuf,
        /// What the plotting library said.
        message: String,
    },
    /// A measurement's baseline could not run.
    #[error("{what}: {message}")]
    Baseline {
        /// Which baseline.
        what: String,
        /// What went wrong.
        message: String,
    },
    /// The caller cancelled the work; what finished is in the store.
    #[error("cancelled")]
    Cancelled,
}

impl From<CacheError> for Error {
    fn from(e: CacheError) -> Self {
        match e {
            CacheError::Sandbox(e) => Error::Sandbox(e),
            CacheError::Store(e) => Error::Store(e),
        }
    }
}

impl Hint for Error {
    fn hint(&self) -> Option<String> {
        match self {
            Error::Bench(e) => e.hint(),
            Error::Sandbox(e) => e.hint(),
            Error::Store(e) => e.hint(),
            Error::Python(e) => e.hint(),
            Error::Toolchain(e) => e.hint(),
            Error::Language(e) => e.hint(),
            Error::Generation(e) => e.hint(),
            Error::Cancelled => {
                Some("run the same command again to resume where it stopped".into())
            }
            Error::Write { .. } => Some("check that the output directory is writable".into()),
            Error::Config(_) | Error::Plot { .. } | Error::Baseline { .. } => None,
            Error::Lost(_) => Some("retry; if it persists, run with -vv and report it".into()),
        }
    }
}

/// The pipeline's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error for a bad setting.
pub(crate) fn config(message: impl Into<String>) -> Error {
    Error::Config(message.into())
}

/// Writes `bytes` to `path`, naming the file on failure.
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Creates a directory and its parents, naming it on failure.
pub(crate) fn create_dir(path: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}
