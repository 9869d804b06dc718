//! The languages codejury runs as processes — C++, Go, Java, JavaScript,
//! TypeScript, PHP, Ruby and Perl — behind both halves of the seam:
//! [`ExecLanguage`] (a `Language`: prompts, candidate and test extraction)
//! and [`ExecToolchain`] (a `Toolchain`: the tools found on this machine,
//! how a pair's program is built and run, and the harness that does it
//! inside the sandbox).
//!
//! A pair's program is the candidate, then the test program, then an
//! epilogue that prints a secret made for that pair; it passes only if it
//! exits 0 and printed the secret, so a candidate that exits early
//! (`exit(0)`, `System.exit(0)`, `process.exit(0)`, `os.Exit(0)`) fails
//! where mxeval's exit-status check would pass it.
//!
//! ```no_run
//! use codejury_core::Lang;
//! use codejury_langs::{ExecLanguage, ExecToolchain};
//!
//! let toolchain = ExecToolchain::resolve(Lang::Go, std::path::Path::new("/tmp/cache"))?;
//! let go = ExecLanguage::new(Lang::Go).expect("Go is a process language");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod extract;
mod language;
pub mod prompts;
pub mod source;
pub mod split;
mod toolchain;

pub use language::ExecLanguage;
pub use toolchain::{
    node_modules, BareTiming, ExecToolchain, MissingTool, EXEC_HARNESS, NPM_PACKAGES,
};
