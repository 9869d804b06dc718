//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The shared data directory: `CODEJURY_DATA_DIR`, else `../shared/data`
/// beside the checkout.
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CODEJURY_DATA_DIR") {
        return PathBuf::from(d);
    }
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        d.exists(),
        "set CODEJURY_DATA_DIR: no shared data at {}",
        d.display()
    );
    d.canonicalize().unwrap()
}

/// The `codejury` binary with the data directory set.
pub fn codejury() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_codejury"));
    c.env("CODEJURY_DATA_DIR", data_dir());
    c
}

/// Runs a command and parses its `--json` summary; panics with its stderr.
pub fn json_of(out: Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}); status {:?}\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Reads the first line `codejury serve` prints and returns the address
/// in it, or `None` if the server printed none (it failed to start).
pub fn served_url(child: &mut std::process::Child) -> Option<String> {
    use std::io::BufRead;
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take()?)
        .read_line(&mut first)
        .ok()?;
    first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(str::to_string)
}
