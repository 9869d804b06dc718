//! CPython as a [`Toolchain`]: the real interpreter binary, started with
//! the harness, keyed by the harness and the interpreter's version.
//!
//! Version managers put shims on `PATH` (pyenv's costs ~100 ms a start), so
//! the interpreter is asked once for `sys.executable` and that binary runs
//! every worker.

use codejury_core::Hint;
use codejury_sandbox::{Launch, MemoryFallback, MemoryPolicy, Toolchain};
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The warm interpreter: started once per worker, it forks a runner per
/// pair. Embedded so the binary is self-contained.
pub const HARNESS: &str = include_str!("harness.py");

/// The interpreter's own footprint, added to the pair's memory limit in the
/// worker's cgroup.
const ZYGOTE_BYTES: u64 = 96 << 20;

/// Address space granted beyond the pair's limit when `RLIMIT_AS` stands in
/// for a cgroup: CPython maps its own code and allocator arenas.
const ADDRESS_SPACE_HEADROOM: u64 = 256 << 20;

/// Why no usable interpreter was found.
#[derive(Debug, thiserror::Error)]
#[error("cannot use {tried} as the Python interpreter: {reason}")]
pub struct NoPython {
    /// What was tried.
    pub tried: String,
    /// What went wrong.
    pub reason: String,
}

impl Hint for NoPython {
    fn hint(&self) -> Option<String> {
        Some("install Python 3.8+ or point CODEJURY_PYTHON (or --python) at one".into())
    }
}

/// A resolved CPython interpreter and the harness it runs.
#[derive(Debug, Clone)]
pub struct PythonToolchain {
    python: PathBuf,
    version: String,
    fingerprint: String,
}

impl PythonToolchain {
    /// The interpreter named by `CODEJURY_PYTHON`, else `python3`.
    pub fn resolve() -> Result<PythonToolchain, NoPython> {
        let name = std::env::var("CODEJURY_PYTHON").unwrap_or_else(|_| "python3".to_string());
        PythonToolchain::named(&name)
    }

    /// A given interpreter name or path, resolved to its real binary.
    pub fn named(name: &str) -> Result<PythonToolchain, NoPython> {
        let fail = |reason: String| NoPython {
            tried: name.to_string(),
            reason,
        };
        let out = Command::new(name)
            .args([
                "-c",
                "import sys; assert sys.version_info >= (3, 8), 'Python 3.8 or newer is needed'; \
                 print(sys.executable); print(sys.implementation.name, sys.version.replace(chr(10), ' '))",
            ])
            .output()
            .map_err(|e| fail(e.to_string()))?;
        if !out.status.success() {
            return Err(fail(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let path = lines.next().unwrap_or_default().trim().to_string();
        let version = lines.next().unwrap_or_default().trim().to_string();
        if path.is_empty() || version.is_empty() {
            return Err(fail(
                "the interpreter did not report sys.executable and sys.version".into(),
            ));
        }
        let python = std::fs::canonicalize(&path).map_err(|e| fail(format!("{path}: {e}")))?;
        let mut h = Sha256::new();
        for part in ["python", HARNESS, &version] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let fingerprint = format!("python:{}", hex::encode(h.finalize()));
        Ok(PythonToolchain {
            python,
            version,
            fingerprint,
        })
    }

    /// The interpreter binary.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// `sys.implementation.name` and `sys.version`, e.g. `cpython 3.11.2 (main, ...)`.
    pub fn version(&self) -> &str {
        &self.version
    }
}

impl Toolchain for PythonToolchain {
    fn language(&self) -> &str {
        "python"
    }

    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// `-S` keeps `site` from running every `.pth` file (the harness adds
    /// site-packages to the path itself), `-s` ignores the user's site, `-B`
    /// writes no bytecode; a fixed hash seed makes set and dict order, and
    /// so any verdict that depends on it, the same in every run.
    fn launch(&self) -> Launch {
        Launch {
            program: self.python.clone(),
            args: ["-S", "-s", "-B", "-c", HARNESS]
                .into_iter()
                .map(OsString::from)
                .collect(),
            env: vec![
                ("PYTHONHASHSEED".into(), "0".into()),
                ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            ],
        }
    }

    fn memory(&self) -> MemoryPolicy {
        MemoryPolicy {
            worker_bytes: ZYGOTE_BYTES,
            fallback: MemoryFallback::AddressSpace {
                headroom_bytes: ADDRESS_SPACE_HEADROOM,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_names_no_path_and_changes_with_the_version() {
        let t = PythonToolchain::resolve().unwrap();
        assert!(t.fingerprint().starts_with("python:"));
        assert!(!t.fingerprint().contains('/'));
        assert!(t.version().starts_with("cpython 3."), "{}", t.version());
        assert!(t.python().is_absolute());
        let err = PythonToolchain::named("/nonexistent/python9").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/python9"));
        assert!(err.hint().unwrap().contains("CODEJURY_PYTHON"));
    }
}
