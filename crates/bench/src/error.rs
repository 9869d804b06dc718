//! Errors of the benchmark crate; each names the file and, where there is
//! one, the line and field.

use codejury_core::Hint;
use std::path::PathBuf;

/// Why a benchmark or sample file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A record is malformed.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A downloaded or cached file has the wrong content.
    #[error("{}: sha256 is {actual}, expected {expected}", path.display())]
    Checksum {
        /// The file.
        path: PathBuf,
        /// What it hashes to.
        actual: String,
        /// What it should hash to.
        expected: String,
    },
    /// A file could not be fetched.
    #[error("cannot fetch {what}: {message}")]
    Fetch {
        /// What was being fetched.
        what: String,
        /// Why it failed.
        message: String,
    },
    /// A sample names a task the benchmark does not have.
    #[error("{}:{line}: task_id {task_id:?} is not in the benchmark", path.display())]
    UnknownTask {
        /// The sample file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The unknown id.
        task_id: String,
    },
}

impl Hint for BenchError {
    fn hint(&self) -> Option<String> {
        match self {
            BenchError::Checksum { .. } => Some(
                "delete the file and run again to fetch a fresh copy, or pass a good local copy"
                    .into(),
            ),
            BenchError::Fetch { .. } => Some(
                "download it by hand and pass its path (see `codejury --help`), or set CODEJURY_DATA_DIR"
                    .into(),
            ),
            BenchError::UnknownTask { .. } => {
                Some("check that --bench names the benchmark the file was written for".into())
            }
            BenchError::Parse { .. } | BenchError::Io { .. } => None,
        }
    }
}
