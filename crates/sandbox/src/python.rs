//! Finding the real Python interpreter.
//!
//! Version managers put shims on `PATH` (pyenv's costs ~100 ms a start);
//! the engine asks the interpreter once for `sys.executable` and runs that
//! binary directly.

use crate::SandboxError;
use std::path::PathBuf;
use std::process::Command;

/// Resolves the interpreter named by `CODEJURY_PYTHON` or `python3` to the
/// absolute path of its real binary.
pub fn resolve() -> Result<PathBuf, SandboxError> {
    let name = std::env::var("CODEJURY_PYTHON").unwrap_or_else(|_| "python3".to_string());
    resolve_named(&name)
}

/// Resolves a given interpreter name or path to the real binary.
pub fn resolve_named(name: &str) -> Result<PathBuf, SandboxError> {
    let fail = |reason: String| SandboxError::NoPython {
        tried: name.to_string(),
        reason,
    };
    let out = Command::new(name)
        .args([
            "-c",
            "import sys; assert sys.version_info >= (3, 8); print(sys.executable)",
        ])
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if path.is_empty() {
        return Err(fail("the interpreter did not report sys.executable".into()));
    }
    std::fs::canonicalize(&path).map_err(|e| fail(format!("{path}: {e}")))
}
