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

/// The 5-model samples and GPT-4 tests of the first `k` HumanEval tasks,
/// as (task, solutions, tests).
pub fn shared_problems(k: usize) -> Vec<(String, Vec<String>, Vec<String>)> {
    let read = |name: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(data_dir().join("samples").join(name))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let samples = read("humaneval-5models-solutions.jsonl");
    let tests = read("humaneval-gpt4-tests.jsonl");
    (0..k)
        .map(|i| {
            let task = format!("HumanEval/{i}");
            // Whole programs only (a `completion` would need the prompt).
            let of = |rows: &[serde_json::Value], field: &str| -> Vec<String> {
                rows.iter()
                    .filter(|r| r["task_id"] == task.as_str())
                    .filter_map(|r| r[field].as_str().map(str::to_string))
                    .collect()
            };
            (task.clone(), of(&samples, "solution"), of(&tests, "test"))
        })
        .collect()
}

/// The rows `codejury exec` writes for `problems` (with a store of its
/// own): what every other front end's verdicts are compared with.
pub fn exec_rows(problems: &[(String, Vec<String>, Vec<String>)]) -> Vec<serde_json::Value> {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (sol, tst) = (dir.path().join("s.jsonl"), dir.path().join("t.jsonl"));
    let (mut s, mut t) = (
        std::fs::File::create(&sol).unwrap(),
        std::fs::File::create(&tst).unwrap(),
    );
    for (task, sols, tests) in problems {
        for x in sols {
            writeln!(s, "{}", serde_json::json!({"task_id": task, "solution": x})).unwrap();
        }
        for x in tests {
            writeln!(t, "{}", serde_json::json!({"task_id": task, "test": x})).unwrap();
        }
    }
    let out = dir.path().join("v.jsonl");
    let status = codejury()
        .args(["exec", "--solutions"])
        .arg(&sol)
        .arg("--tests")
        .arg(&tst)
        .arg("--out")
        .arg(&out)
        .arg("--store")
        .arg(dir.path().join("exec.sqlite"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `codejury COMMAND --bench humaneval --json ARGS` on the shared
/// five-model pool (GPT-4's tests), with its store in `dir` and `--out
/// out`; returns the `--json` summary.
pub fn on_five_model_pool(
    command: &str,
    args: &[&str],
    dir: &std::path::Path,
    out: &std::path::Path,
) -> serde_json::Value {
    let samples = data_dir().join("samples");
    json_of(
        codejury()
            .args([command, "--bench", "humaneval", "--json"])
            .args(args)
            .arg("--solutions")
            .arg(samples.join("humaneval-5models-solutions.jsonl"))
            .arg("--tests")
            .arg(samples.join("humaneval-gpt4-tests.jsonl"))
            .arg("--store")
            .arg(dir.join("store.sqlite"))
            .arg("--out")
            .arg(out)
            .output()
            .unwrap(),
    )
}
