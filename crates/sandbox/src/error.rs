//! Errors of the sandbox crate.

use codejury_core::Hint;
use std::path::PathBuf;

/// Why the engine could not run at all (a single pair's failure is a
/// [`Verdict`](codejury_core::Verdict), not an error).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A worker could not be started even with the weakest isolation.
    #[error("cannot start a sandbox worker for {language}")]
    Spawn {
        /// The toolchain's language.
        language: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The scratch directory could not be prepared.
    #[error("cannot prepare the sandbox scratch directory {}", path.display())]
    Scratch {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A worker never said it was ready.
    #[error("the {language} sandbox worker did not start: {reason}")]
    Handshake {
        /// The toolchain's language.
        language: String,
        /// What was seen instead of the ready line.
        reason: String,
    },
    /// The seccomp filter could not be built.
    #[error("cannot build the seccomp filter")]
    Seccomp(#[source] std::io::Error),
}

impl Hint for SandboxError {
    fn hint(&self) -> Option<String> {
        match self {
            SandboxError::Spawn { .. } | SandboxError::Handshake { .. } => Some(
                "run with RUST_LOG=debug to see the worker's stderr; without root, namespaces and cgroups are skipped".into(),
            ),
            SandboxError::Scratch { .. } => {
                Some("set TMPDIR to a writable directory with free space".into())
            }
            SandboxError::Seccomp(_) => None,
        }
    }
}
