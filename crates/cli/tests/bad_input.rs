//! Bad input gets an error naming file, line and field in every command
//! that reads it; a pathological generated test is discarded with a counted
//! reason and never stops a run or its resume; no cause is printed twice.

mod common;
use common::{codejury, data_dir, json_of};
use std::path::Path;
use std::process::Output;

const SOLUTION: &str = r#"{"task_id": "HumanEval/0", "completion": "    return False\n"}"#;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every command that reads a tests file, on `tests`.
fn commands(dir: &Path, solutions: &Path, tests: &Path) -> Vec<(&'static str, Output)> {
    let store = dir.join("store.sqlite");
    let files = |cmd: &str, out: &str| {
        let mut c = codejury();
        c.args([cmd, "--bench", "humaneval", "--solutions"])
            .arg(solutions)
            .arg("--tests")
            .arg(tests)
            .arg("--store")
            .arg(&store)
            .arg("--out")
            .arg(dir.join(out));
        if cmd == "scale" {
            c.args(["--probe-model", "none", "--repeats", "1"]);
        }
        c.output().unwrap()
    };
    // `run` reads tests from a model; a replay file is one.
    let replay = format!("replay:{}", tests.display());
    let policy = format!("replay:{}", solutions.display());
    let run = codejury()
        .args([
            "run",
            "--bench",
            "humaneval",
            "--limit",
            "1",
            "-n",
            "1",
            "-m",
            "2",
        ])
        .args(["--policy", &policy, "--tester", &replay])
        .arg("--store")
        .arg(&store)
        .arg("--out")
        .arg(dir.join("run"))
        .output()
        .unwrap();
    vec![
        ("eval", files("eval", "eval")),
        ("scale", files("scale", "scale")),
        ("exec", files("exec", "v.jsonl")),
        ("run", run),
    ]
}

#[test]
fn null_numeric_and_empty_tests_are_rejected_with_file_line_and_field_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let solutions = dir.path().join("solutions.jsonl");
    std::fs::write(&solutions, format!("{SOLUTION}\n")).unwrap();
    for (bad, why) in [
        (r#"{"task_id": "HumanEval/0", "test": null}"#, "found null"),
        (r#"{"task_id": "HumanEval/0", "test": 7}"#, "found a number"),
        (r#"{"task_id": "HumanEval/0", "test": "  "}"#, "is empty"),
    ] {
        let tests = dir.path().join("tests.jsonl");
        std::fs::write(
            &tests,
            format!("{{\"task_id\": \"HumanEval/0\", \"test\": \"assert True\"}}\n{bad}\n"),
        )
        .unwrap();
        for (cmd, out) in commands(dir.path(), &solutions, &tests) {
            let err = stderr(&out);
            if cmd == "run" && why == "is empty" {
                // To `run` a replay line is model text, and a model that
                // answers with blanks gave a generation with no test in it:
                // counted as a discard, not an input error.
                assert!(out.status.success(), "{err}");
                let report = std::fs::read_to_string(dir.path().join("run/report.json")).unwrap();
                assert!(report.contains("\"no-code-block\": 2"), "{report}");
                continue;
            }
            assert_eq!(out.status.code(), Some(2), "{cmd} accepted {bad}: {err}");
            assert!(
                err.contains("tests.jsonl:2:") && err.contains("`test`"),
                "{cmd} on {bad}: {err}"
            );
            // The replay backend states what is wrong its own way; the pool
            // readers say which it is.
            if cmd != "run" {
                assert!(err.contains(why), "{cmd} on {bad}: {err}");
            }
        }
    }
}

#[test]
fn a_format_the_language_lacks_is_an_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let solutions = dir.path().join("solutions.jsonl");
    std::fs::write(&solutions, format!("{SOLUTION}\n")).unwrap();
    let tests = dir.path().join("tests.jsonl");
    std::fs::write(
        &tests,
        "{\"task_id\": \"HumanEval/0\", \"test\": \"assert True\", \"format\": \"doctest\"}\n",
    )
    .unwrap();
    for (cmd, out) in commands(dir.path(), &solutions, &tests) {
        if cmd == "run" {
            continue; // a replay file's lines carry no format
        }
        let err = stderr(&out);
        assert!(
            err.contains("tests.jsonl:1: field `format`: \"doctest\" is not a python test format"),
            "{cmd}: {err}"
        );
    }
}

#[test]
fn a_bad_usage_record_or_style_is_an_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let solutions = dir.path().join("solutions.jsonl");
    std::fs::write(&solutions, format!("{SOLUTION}\n")).unwrap();
    let tests = dir.path().join("tests.jsonl");
    for (bad, said) in [
        (
            r#""usage": {"prompt_tokens": -1, "completion_tokens": 3, "latency_ms": 9}"#,
            "field `usage.prompt_tokens` must be a number ≥ 0",
        ),
        (
            r#""usage": {"prompt_tokens": 1, "completion_tokens": 3}"#,
            "field `usage.latency_ms` is missing or not a number",
        ),
        (r#""usage": 7"#, "field `usage` must be an object"),
        (
            r#""style": "doctest""#,
            "field `style`: \"doctest\" is neither",
        ),
    ] {
        std::fs::write(
            &tests,
            format!("{{\"task_id\": \"HumanEval/0\", \"generation\": \"x\", {bad}}}\n"),
        )
        .unwrap();
        for (cmd, out) in commands(dir.path(), &solutions, &tests) {
            if cmd == "run" || cmd == "exec" {
                continue; // model text to `run`; `exec` takes plain tests only
            }
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{cmd} accepted {bad}: {err}");
            assert!(
                err.contains(&format!("tests.jsonl:1: {said}")),
                "{cmd}: {err}"
            );
        }
    }
}

#[test]
fn pathological_generated_tests_are_discarded_with_a_reason_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let samples = data_dir().join("samples/humaneval-5models-solutions.jsonl");
    let first: Vec<String> = std::fs::read_to_string(&samples)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"HumanEval/0\""))
        .map(str::to_string)
        .collect();
    let solutions = dir.path().join("solutions.jsonl");
    std::fs::write(&solutions, first.join("\n") + "\n").unwrap();
    // A CodeT pool line: one good assert, one nested past the parser's
    // recursion limit, one a megabyte literal; and a CodeRM generation too
    // deep to parse.
    let good = "has_close_elements([1.0], 0.5) == False";
    let nested = format!(
        "has_close_elements([{}1.0], 0.5) == False",
        "-".repeat(200_000)
    );
    let huge = format!(
        "has_close_elements([1.0], 0.5) == ({:?} == '')",
        "x".repeat(2 << 20)
    );
    let codet = serde_json::json!({
        "task_id": "HumanEval/0",
        "samples": [format!("{good}\nassert {nested}\nassert {huge}\n")],
    });
    let unit = format!(
        "```python\nimport unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertTrue(has_close_elements([{}1.0, 1.1], 0.2))\n```",
        "-".repeat(200_000)
    );
    let coderm = serde_json::json!({"task_id": "HumanEval/0", "generation": unit});
    let tests = dir.path().join("tests.jsonl");
    std::fs::write(&tests, format!("{codet}\n{coderm}\n")).unwrap();
    let eval = || {
        codejury()
            .args([
                "--json",
                "eval",
                "--bench",
                "humaneval",
                "--repeats",
                "1",
                "--solutions",
            ])
            .arg(&solutions)
            .arg("--tests")
            .arg(&tests)
            .arg("--store")
            .arg(dir.path().join("store.sqlite"))
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    let s = json_of(eval());
    assert_eq!(s["tasks"], 1, "{s}");
    assert_eq!(s["tests"], 1, "only the good assert is a test: {s}");
    let d = &s["discarded_tests"];
    assert_eq!(d["too-complex"], 2, "{s}");
    assert_eq!(d["too-large"], 1, "{s}");
    // Resuming (everything from the store) meets the same tests and goes on.
    let again = json_of(eval());
    assert_eq!(again["discarded_tests"], s["discarded_tests"]);
    assert_eq!(again["executed"], 0, "{again}");
}

#[test]
fn an_error_and_its_cause_are_each_printed_once_with_the_hint_after() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let samples = data_dir().join("samples/humaneval-5models-solutions.jsonl");
    let out = codejury()
        .args(["eval", "--bench", "humaneval", "--solutions"])
        .arg(&samples)
        .arg("--tests")
        .arg(&samples)
        .arg("--store")
        .arg(blocker.join("sub/store.sqlite"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let cause = "Not a directory";
    assert_eq!(err.matches(cause).count(), 1, "{err}");
    assert_eq!(err.matches("not-a-dir").count(), 1, "{err}");
    let hint = err.find("hint: ").expect("a hint");
    assert!(hint > err.find(cause).unwrap(), "{err}");
}
