//! `bench exec`, `bench label` and `bench serve` on a few real tasks, through the real
//! sandbox and the real baselines: every approach must judge the pairs as
//! faithful mode does, and the profile must account for every pair. No
//! timing is asserted (the numbers are the benchmark's output, not a
//! property of the code).
//!
//! `bench label` runs EvalPlus 0.3.1's own evaluator: set
//! `CODEJURY_EVALPLUS_PYTHON` to a Python that has it (`.ci/run` installs
//! it into `~/.cache/codejury-evalplus-venv`, the default). Without it the
//! test fails.

mod common;

use common::{codejury, json_of};
use serde_json::Value;

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Checks one `bench exec --json` summary: agreement everywhere, and a
/// profile whose workers ran every pair.
fn check_exec(b: &Value) {
    let pairs = count(&b["pairs"]);
    assert!(pairs > 0, "{b}");
    let x = &b["approaches"];
    for name in ["fast", "plain_exec", "paper_method", "process_per_pair"] {
        let a = &x[name];
        assert_eq!(
            count(&a["agreement_with_faithful"]),
            count(&a["pairs"]),
            "{name} disagrees with faithful mode: {a}"
        );
    }
    assert_eq!(count(&x["faithful"]["pairs"]), pairs);
    assert!(count(&x["process_per_pair"]["pairs"]) <= 10 + 1, "{b}");
    assert!(b["floor_cpu_seconds"].as_f64().unwrap_or(0.0) > 0.0, "{b}");
    for mode in ["faithful_profile", "fast_profile"] {
        let workers = b[mode]["workers"].as_array().expect("workers");
        assert_eq!(workers.len() as u64, count(&b["workers"]), "{mode}");
        let ran: u64 = workers.iter().map(|w| count(&w["pairs"])).sum();
        assert_eq!(ran, pairs, "{mode}: the workers' pairs must add up");
    }
}

#[test]
fn bench_exec_coderm_workload_agrees_everywhere_and_accounts_for_every_pair() {
    let out = codejury()
        .args(["bench", "exec", "--workload", "coderm", "--tasks", "3"])
        .args(["--baseline-pairs", "10", "--paper-processes", "4", "--json"])
        .output()
        .unwrap();
    let b = json_of(out);
    assert_eq!(b["workload"], "coderm");
    // The first three HumanEval tasks: 15 samples, five GPT-4 asserts each.
    assert_eq!(count(&b["programs"]), 15, "{b}");
    check_exec(&b);
}

#[test]
fn bench_exec_evalplus_workload_agrees_everywhere() {
    let out = codejury()
        .args(["bench", "exec", "--workload", "evalplus", "--tasks", "2"])
        .args(["--baseline-pairs", "10", "--json"])
        .output()
        .unwrap();
    let b = json_of(out);
    assert_eq!(b["workload"], "evalplus");
    // Two canonical solutions and the 10 samples of those tasks; every
    // canonical solution passes its own expected outputs.
    assert_eq!(count(&b["programs"]), 12, "{b}");
    assert!(count(&b["passes_faithful"]) > 0, "{b}");
    check_exec(&b);
}

#[test]
fn bench_label_agrees_with_evalplus_on_the_first_tasks() {
    let out = codejury()
        .args([
            "bench",
            "label",
            "--bench",
            "humaneval-plus",
            "--tasks",
            "4",
        ])
        .arg("--json")
        .output()
        .unwrap();
    let b = json_of(out);
    // Five models' samples of HumanEval/0..3.
    assert_eq!(count(&b["samples"]), 20, "{b}");
    assert_eq!(count(&b["agreement"]), 20, "{b}");
    assert_eq!(b["codejury_passed"], b["evalplus_passed"], "{b}");
    assert!(count(&b["codejury_passed"]) > 0, "{b}");
    assert!(b["evalplus_seconds"].as_f64().unwrap_or(0.0) > 0.0, "{b}");
}

#[test]
fn bench_serve_answers_every_request_with_the_batch_verdicts() {
    let out = codejury()
        .args([
            "bench",
            "serve",
            "--tasks",
            "3",
            "--clients",
            "1,4",
            "--json",
        ])
        .output()
        .unwrap();
    let b = json_of(out);
    let pairs = count(&b["pairs"]);
    assert_eq!(count(&b["tasks"]), 3, "{b}");
    assert!(pairs > 0, "{b}");
    let levels = b["levels"].as_array().expect("levels");
    assert_eq!(levels.len(), 4, "two routes at two levels: {b}");
    for l in levels {
        // A request per task on /v1/judge, per pair on /run_code.
        let requests = if l["route"] == "/v1/judge" { 3 } else { pairs };
        assert_eq!(count(&l["requests"]), requests, "{l}");
        assert_eq!(count(&l["statuses"]["200"]), requests, "{l}");
        assert_eq!(count(&l["agreement"]), pairs, "{l}");
    }
}
