//! Measurements, each with its baseline run side by side in the same call
//! and the ratio computed: the execution engine against a process per pair,
//! the CodeRM paper's harness method and no isolation ([`exec`]), ground
//! truth against EvalPlus's own evaluator ([`label`]), the embedded model
//! against llama.cpp's own ([`generate`]).

pub mod exec;
pub mod exec_lang;
#[cfg(feature = "embedded")]
pub mod generate;
pub mod label;

use crate::error::{config, Result};
use std::path::{Path, PathBuf};

/// A file of the codejury data under `$CODEJURY_DATA_DIR`, unless the user
/// named one with `flag`.
pub(crate) fn data_file(
    given: &Option<PathBuf>,
    under_data_dir: &str,
    flag: &str,
) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    match std::env::var_os("CODEJURY_DATA_DIR") {
        Some(d) => Ok(Path::new(&d).join(under_data_dir)),
        None => Err(config(format!(
            "pass {flag} (the {under_data_dir} file of the codejury data) or set CODEJURY_DATA_DIR"
        ))),
    }
}

/// The 5-model HumanEval samples: `given`, or under `$CODEJURY_DATA_DIR`.
pub(crate) fn samples_path(given: &Option<PathBuf>) -> Result<PathBuf> {
    data_file(
        given,
        "samples/humaneval-5models-solutions.jsonl",
        "--samples",
    )
}
