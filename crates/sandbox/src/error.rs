//! Errors of the sandbox crate.

use std::path::PathBuf;

/// Why the engine could not run at all (a single pair's failure is a
/// [`Verdict`](codejury_core::Verdict), not an error).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// No usable Python interpreter was found.
    #[error("cannot find a Python 3 interpreter ({tried}): {reason}\nhint: install Python 3.8+ or point CODEJURY_PYTHON at one")]
    NoPython {
        /// What was tried.
        tried: String,
        /// What went wrong.
        reason: String,
    },
    /// A worker could not be started even with the weakest isolation.
    #[error("cannot start a sandbox worker: {0}")]
    Spawn(#[source] std::io::Error),
    /// The scratch directory could not be prepared.
    #[error("cannot prepare the sandbox scratch directory {path}: {source}")]
    Scratch {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A worker never said it was ready.
    #[error("the sandbox worker did not start: {0}")]
    Handshake(String),
}
