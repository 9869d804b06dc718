//! `codejury exec` from files: one verdict per (solution, test) pair.

mod common;
use common::{codejury, json_of};
use std::collections::HashMap;

#[test]
fn exec_writes_one_verdict_per_pair() {
    let dir = tempfile::tempdir().unwrap();
    let problems = dir.path().join("p.jsonl");
    std::fs::write(
        &problems,
        r#"{"task_id": "t/0", "prompt": "def inc(x):\n", "entry_point": "inc"}"#,
    )
    .unwrap();
    let solutions = dir.path().join("s.jsonl");
    std::fs::write(
        &solutions,
        concat!(
            r#"{"task_id": "t/0", "completion": "    return x + 1\n"}"#,
            "\n",
            r#"{"task_id": "t/0", "solution": "def inc(x):\n    while True:\n        pass\n"}"#,
            "\n",
        ),
    )
    .unwrap();
    let tests = dir.path().join("t.jsonl");
    std::fs::write(
        &tests,
        concat!(
            r#"{"task_id": "t/0", "test": "assert inc(1) == 2"}"#, "\n",
            r#"{"task_id": "t/0", "test": "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(inc(2), 3)\n"}"#, "\n",
            r#"{"task_id": "t/0", "test": "def check(candidate):\n    assert candidate(5) == 7\n"}"#, "\n",
        ),
    )
    .unwrap();
    let out_file = dir.path().join("v.jsonl");
    for mode in ["faithful", "fast"] {
        let out = codejury()
            .args([
                "exec",
                "--json",
                "--timeout-ms",
                "500",
                "--mode",
                mode,
                "--problems",
            ])
            .arg(&problems)
            .arg("--store")
            .arg(dir.path().join("store.sqlite"))
            .arg("--solutions")
            .arg(&solutions)
            .arg("--tests")
            .arg(&tests)
            .arg("--out")
            .arg(&out_file)
            .output()
            .unwrap();
        let s = json_of(out);
        assert_eq!(s["pairs"], 6, "{s}");
        let rows: Vec<serde_json::Value> = std::fs::read_to_string(&out_file)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let got: HashMap<(u64, u64), String> = rows
            .iter()
            .map(|r| {
                (
                    (
                        r["solution_index"].as_u64().unwrap(),
                        r["test_index"].as_u64().unwrap(),
                    ),
                    r["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got.len(), 6);
        assert_eq!(got[&(0, 0)], "pass", "{mode}");
        assert_eq!(got[&(0, 1)], "pass", "{mode}");
        assert_eq!(got[&(0, 2)], "fail", "{mode}");
        for t in 0..3 {
            assert_eq!(got[&(1, t)], "timeout", "{mode}");
        }
        for r in &rows {
            assert_eq!(r["task_id"], "t/0");
            assert!(r["wall_ms"].as_f64().unwrap() >= 0.0);
        }
    }
}

#[test]
fn a_completion_without_problems_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let solutions = dir.path().join("s.jsonl");
    std::fs::write(&solutions, "{\"task_id\": \"t\", \"completion\": \"x\"}\n").unwrap();
    let tests = dir.path().join("t.jsonl");
    std::fs::write(
        &tests,
        "{\"task_id\": \"t\", \"test\": \"assert True\"}\n{\"task_id\": \"t\"}\n",
    )
    .unwrap();
    let stderr = || {
        let out = codejury()
            .args(["exec", "--solutions"])
            .arg(&solutions)
            .arg("--tests")
            .arg(&tests)
            .arg("--out")
            .arg(dir.path().join("o.jsonl"))
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = stderr();
    assert!(err.contains("t.jsonl:2: missing field `test`"), "{err}");
    std::fs::write(&tests, "{\"task_id\": \"t\", \"test\": \"assert True\"}\n").unwrap();
    let err = stderr();
    assert!(
        err.contains("s.jsonl:1: field `completion` needs the problem's prompt"),
        "{err}"
    );
}

/// Waits until `pred` holds, for at most `secs` seconds.
fn wait_for(secs: u64, mut pred: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if pred() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn kill_9_during_exec_resumes_without_running_a_finished_pair_again() {
    let dir = tempfile::tempdir().unwrap();
    let solutions = dir.path().join("s.jsonl");
    let mut s = String::new();
    for k in 0..4 {
        s += &format!(
            "{{\"task_id\": \"t\", \"solution\": \"def f(x):\\n    return x + 1  # {k}\\n\"}}\n"
        );
    }
    std::fs::write(&solutions, s).unwrap();
    let tests = dir.path().join("t.jsonl");
    let mut t = String::new();
    for i in 0..30 {
        t += &format!("{{\"task_id\": \"t\", \"test\": \"import time\\ntime.sleep(0.05)\\nassert f({i}) == {}\"}}\n", i + 1);
    }
    std::fs::write(&tests, t).unwrap();
    let store_path = dir.path().join("store.sqlite");
    let out_file = dir.path().join("v.jsonl");
    let cmd = || {
        let mut c = codejury();
        c.args(["exec", "--json", "--solutions"])
            .arg(&solutions)
            .arg("--tests")
            .arg(&tests)
            .arg("--store")
            .arg(&store_path)
            .arg("--out")
            .arg(&out_file);
        c
    };
    let mut child = cmd()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let committed = || {
        codejury_store::Store::open(&store_path)
            .and_then(|s| s.len())
            .unwrap_or(0)
    };
    assert!(
        wait_for(60, || committed() >= 20),
        "the first run never got going"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = committed();
    assert!(before < 120, "the run finished before it was killed");

    let s = json_of(cmd().output().unwrap());
    assert_eq!(s["pairs"], 120);
    assert_eq!(s["cached"], before, "{s}");
    assert_eq!(
        s["executed"],
        120 - before,
        "a finished pair ran again: {s}"
    );
    assert_eq!(s["verdicts"]["pass"], 120, "{s}");
    let rows = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(rows.lines().count(), 120);

    // A third run costs nothing.
    let s = json_of(cmd().output().unwrap());
    assert_eq!(s["executed"], 0, "{s}");
    assert_eq!(s["cached"], 120);

    // Every candidate passes everything: all four tie under the vote.
    let sel = json_of(
        codejury()
            .args(["select", "--json", "--verdicts"])
            .arg(&out_file)
            .output()
            .unwrap(),
    );
    assert_eq!(sel["tasks"], 1);
    assert_eq!(
        sel["selections"][0]["tied"],
        serde_json::json!([0, 1, 2, 3])
    );
}
