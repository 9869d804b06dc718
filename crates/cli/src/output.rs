//! Printing a command's result: one JSON object with `--json`, a human
//! table otherwise, each from the same typed value.

use anyhow::{Context, Result};
use codejury_pipeline::Error;
use serde::Serialize;
use std::process::ExitCode;

/// How the summary is printed.
pub struct Output {
    /// One JSON object on stdout instead of a human table.
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON when `--json` is given, else runs `human`.
    pub fn summary<T: Serialize>(&self, value: &T, human: impl FnOnce()) -> Result<()> {
        if self.json {
            println!(
                "{}",
                serde_json::to_string(value).context("cannot serialise the summary")?
            );
        } else {
            human();
        }
        Ok(())
    }
}

/// What a command ends with when the pipeline was cancelled (exit 130,
/// with how to resume), or the error itself.
pub fn cancelled_or(e: Error, store: Option<&std::path::Path>) -> Result<ExitCode> {
    match e {
        Error::Cancelled => {
            match store {
                Some(p) => eprintln!(
                    "stopped; finished work is kept in {}; run the same command again to resume",
                    p.display()
                ),
                None => eprintln!("stopped"),
            }
            Ok(ExitCode::from(130))
        }
        e => Err(e.into()),
    }
}
