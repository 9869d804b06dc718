//! `codejury serve`, a real server on loopback driven over HTTP: judge
//! verdicts equal `codejury exec` on the shared samples, the token guards
//! every route but the probes, a burst gets only 200 or 429, an oversized
//! request gets 413, SIGTERM lets the request in flight finish, and
//! `/run_code` takes verl's payload and SandboxFusion's official client
//! (from PyPI: `CODEJURY_SANDBOX_FUSION_PYTHON`, which `.ci/run` installs;
//! without it that test fails).

mod common;

use common::{codejury, exec_rows, served_url, shared_problems};
use serde_json::{json, Value};
use std::process::{Child, Stdio};
use std::time::Duration;

/// A running server, killed if the test ends without stopping it.
struct Serve {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(extra: &[&str]) -> Serve {
    let dir = tempfile::tempdir().unwrap();
    let mut child = codejury()
        .args(["serve", "--addr", "127.0.0.1:0", "--store"])
        .arg(dir.path().join("store.sqlite"))
        .args(extra)
        .env_remove("CODEJURY_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let url = served_url(&mut child).expect("the server printed its address");
    Serve {
        child,
        url,
        _dir: dir,
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

#[test]
fn judge_over_http_equals_exec_and_a_second_ask_is_answered_from_the_store() {
    let server = serve(&[]);
    let http = client();
    let problems = shared_problems(3);

    // `codejury exec` on the same pairs, with a store of its own.
    let rows = exec_rows(&problems);

    for (task, sols, tests) in &problems {
        let req = json!({"task_id": task, "candidates": sols, "tests": tests});
        let resp = http
            .post(format!("{}/v1/judge", server.url))
            .json(&req)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().contains_key("x-codejury-isolation"));
        let r: Value = resp.json().unwrap();
        for row in rows.iter().filter(|r| r["task_id"] == task.as_str()) {
            let (i, j) = (
                row["solution_index"].as_u64().unwrap() as usize,
                row["test_index"].as_u64().unwrap() as usize,
            );
            assert_eq!(
                r["verdicts"][i][j], row["verdict"],
                "{task}: candidate {i}, test {j}"
            );
        }
        for rule in [
            "coderm",
            "codet",
            "codet-paper",
            "mbr",
            "passcount",
            "random",
        ] {
            let c = &r["rules"][rule];
            let tied: Vec<u64> = c["tied"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            assert!(tied.contains(&c["chosen"].as_u64().unwrap()), "{rule}: {c}");
        }
        assert_eq!(r["pairs"], sols.len() * tests.len());
        assert!(r["executed"].as_u64().unwrap() > 0);

        // The same question again: every distinct pair from the store.
        let again: Value = http
            .post(format!("{}/v1/judge", server.url))
            .json(&req)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(again["executed"], 0, "{again}");
        assert_eq!(again["verdicts"], r["verdicts"]);
    }

    // Streaming: one line per pair, then the result.
    let (task, sols, tests) = &problems[0];
    let body = http
        .post(format!("{}/v1/judge", server.url))
        .header("accept", "application/x-ndjson")
        .json(&json!({"task_id": task, "candidates": sols, "tests": tests}))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), sols.len() * tests.len() + 1, "{body}");
    assert!(lines[..lines.len() - 1]
        .iter()
        .all(|l| l["pair"].is_object()));
    assert!(lines[lines.len() - 1]["result"]["verdicts"].is_array());

    // A bad request names the field.
    let resp = http
        .post(format!("{}/v1/judge", server.url))
        .json(&json!({"candidates": ["x = 1"], "tests": ["assert x == 1"], "limit": {}}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 400);
    let e: Value = resp.json().unwrap();
    assert!(e["error"].as_str().unwrap().contains("limit"), "{e}");

    // The metrics saw it all.
    let m = http
        .get(format!("{}/metrics", server.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(m.contains("codejury_pairs_total{verdict=\"pass\"}"), "{m}");
    assert!(m.contains("route=\"/v1/judge\""), "{m}");
    assert!(m.contains("codejury_isolation_layer"), "{m}");
}

#[test]
fn submit_is_a_ground_truth_reward() {
    let server = serve(&[]);
    let http = client();
    let submit = |completion: &str| -> Value {
        http.post(format!("{}/v1/submit", server.url))
            .json(
                &json!({"bench": "humaneval", "task_id": "HumanEval/0", "completion": completion}),
            )
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let right = "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n";
    let wrong = "    return False\n";
    let r = submit(right);
    assert_eq!(r["reward"], 1.0, "{r}");
    assert_eq!(r["verdict"], "pass");
    let r = submit(wrong);
    assert_eq!(r["reward"], 0.0, "{r}");
    assert_eq!(r["verdict"], "fail");
    let resp = http
        .post(format!("{}/v1/submit", server.url))
        .json(&json!({"bench": "humaneval", "task_id": "HumanEval/999", "completion": wrong}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[test]
fn the_token_guards_every_route_but_the_probes() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let server = serve(&["--token-file", token.to_str().unwrap()]);
    let http = client();
    let get = |path: &str, auth: Option<&str>| {
        let mut r = http.get(format!("{}{path}", server.url));
        if let Some(a) = auth {
            r = r.bearer_auth(a);
        }
        r.send().unwrap().status().as_u16()
    };
    assert_eq!(get("/v1/ping", None), 401);
    assert_eq!(get("/v1/ping", Some("wrong")), 401);
    assert_eq!(get("/metrics", None), 401);
    assert_eq!(get("/v1/ping", Some("s3cret-token")), 200);
    assert_eq!(get("/healthz", None), 200);
    assert_eq!(get("/readyz", None), 200);

    // Beyond loopback without a token: refused, with the way out.
    let out = codejury()
        .args(["serve", "--addr", "0.0.0.0:0"])
        .env_remove("CODEJURY_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("without a token") && err.contains("--token-file"),
        "{err}"
    );
}

/// A request whose tests each sleep: slow in wall time, cheap in CPU.
fn sleepy(tag: usize, candidates: usize, tests: usize, sleep_s: f64) -> Value {
    let cands: Vec<String> = (0..candidates)
        .map(|c| format!("import time\nVALUE = {c}  # request {tag}\n"))
        .collect();
    let tests: Vec<String> = (0..tests)
        .map(|t| format!("time.sleep({sleep_s})\nassert VALUE >= 0  # test {t}\n"))
        .collect();
    json!({"candidates": cands, "tests": tests})
}

#[test]
fn a_burst_gets_only_200_or_429_and_oversized_requests_get_413() {
    let server = serve(&["--queue-pairs", "10", "-j", "1", "--max-body-mb", "1"]);
    let http = client();
    let statuses: Vec<(u16, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|k| {
                let (http, url) = (&http, &server.url);
                s.spawn(move || {
                    let r = http
                        .post(format!("{url}/v1/judge"))
                        .json(&sleepy(k, 2, 5, 0.05))
                        .send()
                        .unwrap();
                    (r.status().as_u16(), r.headers().contains_key("retry-after"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().all(|(c, _)| *c == 200 || *c == 429),
        "{statuses:?}"
    );
    assert!(statuses.iter().any(|(c, _)| *c == 200), "{statuses:?}");
    assert!(statuses.iter().any(|(c, _)| *c == 429), "{statuses:?}");
    assert!(
        statuses.iter().filter(|(c, _)| *c == 429).all(|(_, r)| *r),
        "every 429 says when to retry: {statuses:?}"
    );

    // More pairs than the queue holds: 413, not 429 (waiting cannot help).
    let r = http
        .post(format!("{}/v1/judge", server.url))
        .json(&sleepy(99, 3, 4, 0.0))
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    // A body over --max-body-mb.
    let big = json!({"candidates": ["x = 1"], "tests": ["#".repeat(2 << 20)]});
    let r = http
        .post(format!("{}/v1/judge", server.url))
        .json(&big)
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    // (The server closes a connection whose body it refused: a new client.)
    let m = client()
        .get(format!("{}/metrics", server.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        m.contains("codejury_rejections_total{reason=\"busy\"}"),
        "{m}"
    );
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let mut server = serve(&["-j", "1"]);
    let http = client();
    let url = server.url.clone();
    let pid = server.child.id();
    let answer = std::thread::scope(|s| {
        let h = s.spawn(|| {
            http.post(format!("{url}/v1/judge"))
                .json(&sleepy(7, 2, 3, 0.3))
                .send()
                .map(|r| (r.status().as_u16(), r.json::<Value>().ok()))
        });
        std::thread::sleep(Duration::from_millis(500));
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        h.join().unwrap()
    });
    let (code, body) = answer.expect("the request in flight was answered");
    assert_eq!(code, 200);
    let body = body.expect("a JSON result");
    assert_eq!(body["pairs"], 6, "{body}");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
}

/// verl's `/run_code` payload (its sandbox_fusion utils send every field).
fn verl_payload(code: &str, stdin: &str, run_timeout: f64) -> Value {
    json!({
        "compile_timeout": 10, "run_timeout": run_timeout, "code": code, "stdin": stdin,
        "memory_limit_MB": 1024, "language": "python", "files": {}, "fetch_files": []
    })
}

#[test]
fn run_code_takes_verls_payload_and_answers_in_sandbox_fusions_shape() {
    let server = serve(&[]);
    let http = client();
    let run = |body: &Value| -> Value {
        let r = http
            .post(format!("{}/run_code", server.url))
            .json(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    };
    let r = run(&verl_payload("print(input()[::-1])", "abc\n", 10.0));
    assert_eq!(r["status"], "Success", "{r}");
    assert_eq!(r["run_result"]["status"], "Finished");
    assert_eq!(r["run_result"]["stdout"], "cba\n");
    assert_eq!(r["run_result"]["return_code"], 0);
    assert!(r["compile_result"].is_null());

    let r = run(&verl_payload(
        "import sys\nprint('no', file=sys.stderr)\nsys.exit(3)",
        "",
        10.0,
    ));
    assert_eq!(r["status"], "Failed", "{r}");
    assert_eq!(r["run_result"]["return_code"], 3);
    assert_eq!(r["run_result"]["stderr"], "no\n");

    let r = run(&verl_payload("raise ValueError('boom')", "", 10.0));
    assert_eq!(r["run_result"]["return_code"], 1, "{r}");
    let stderr = r["run_result"]["stderr"].as_str().unwrap();
    assert!(
        stderr.contains("ValueError: boom") && !stderr.contains("_cj_"),
        "{stderr}"
    );

    let r = run(&verl_payload("while True:\n    pass", "", 0.5));
    assert_eq!(r["status"], "Failed", "{r}");
    assert_eq!(r["run_result"]["status"], "TimeLimitExceeded");

    // A megabyte of output is a normal run, not a time-out.
    let r = run(&verl_payload("print('x' * 1_000_000)", "", 10.0));
    assert_eq!(r["status"], "Success", "{}", r["message"]);
    assert_eq!(r["run_result"]["stdout"].as_str().unwrap().len(), 1_000_001);

    // Files in and out.
    let mut body = verl_payload(
        "open('out.txt', 'w').write(open('data/in.txt').read().upper())",
        "",
        10.0,
    );
    body["files"] = json!({"data/in.txt": "aGVsbG8="}); // "hello"
    body["fetch_files"] = json!(["out.txt"]);
    let r = run(&body);
    assert_eq!(r["files"]["out.txt"], "SEVMTE8=", "{r}"); // "HELLO"

    // What this server cannot run is a 400 that says so.
    let mut body = verl_payload("int main() {}", "", 10.0);
    body["language"] = json!("cpp");
    let r = http
        .post(format!("{}/run_code", server.url))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[test]
fn run_code_waits_for_room_then_answers_504_which_verl_retries() {
    let server = serve(&["--queue-pairs", "1", "--queue-wait-ms", "300", "-j", "1"]);
    let http = client();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let slow = s.spawn(|| {
            http.post(format!("{}/run_code", server.url))
                .json(&verl_payload(
                    "import time\ntime.sleep(2)\nprint('done')",
                    "",
                    10.0,
                ))
                .send()
                .unwrap()
                .status()
                .as_u16()
        });
        std::thread::sleep(Duration::from_millis(700));
        let waiting = http
            .post(format!("{}/run_code", server.url))
            .json(&verl_payload("print(1)", "", 10.0))
            .send()
            .unwrap()
            .status()
            .as_u16();
        vec![slow.join().unwrap(), waiting]
    });
    assert_eq!(statuses, vec![200, 504]);
}

/// A Python with the official `sandbox-fusion` client:
/// `CODEJURY_SANDBOX_FUSION_PYTHON`, or the venv `.ci/run` makes.
fn sandbox_fusion_python() -> std::path::PathBuf {
    let p = std::env::var_os("CODEJURY_SANDBOX_FUSION_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/codejury-sandbox-fusion-venv/bin/python")
        });
    assert!(
        p.exists(),
        "no sandbox-fusion client at {} (set CODEJURY_SANDBOX_FUSION_PYTHON; .ci/run installs it)",
        p.display()
    );
    p
}

#[test]
fn the_official_sandbox_fusion_client_works_unchanged() {
    let server = serve(&[]);
    let script = r#"
import base64, sys
from sandbox_fusion import RunCodeRequest, RunStatus, run_code, set_endpoint
set_endpoint(sys.argv[1])
r = run_code(RunCodeRequest(code="print(input()[::-1])", stdin="abc", language="python"))
assert r.status == RunStatus.Success and r.run_result.stdout == "cba\n", r
r = run_code(RunCodeRequest(code="import sys; sys.exit(3)", language="python"))
assert r.status == RunStatus.Failed and r.run_result.return_code == 3, r
r = run_code(RunCodeRequest(code="while True: pass", language="python", run_timeout=0.5))
assert r.run_result.status.value == "TimeLimitExceeded", r
r = run_code(RunCodeRequest(code="open('o', 'w').write(open('i').read()[::-1])", language="python",
                            files={"i": base64.b64encode(b"abc").decode()}, fetch_files=["o"]))
assert base64.b64decode(r.files["o"]) == b"cba", r
print("ok")
"#;
    let out = std::process::Command::new(sandbox_fusion_python())
        .args(["-c", script, &server.url])
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Peak resident memory of a process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// 128 clients at once, each with a body of about 900 kB, all admitted
/// (the queue holds them all) and each held for a moment by a test that
/// sleeps: the server reads and holds at most `--max-requests` bodies at a
/// time, so its peak memory stays bounded. (Measured here: about 66–110
/// MiB with `--max-requests 4`; 533 MiB when every request is let in.)
#[test]
fn a_burst_of_large_bodies_keeps_the_servers_memory_bounded() {
    let mut server = serve(&[
        "--queue-pairs",
        "1000",
        "--max-requests",
        "4",
        "--max-body-mb",
        "1",
    ]);
    let http = client();
    let padding = "#".repeat(900_000);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..128)
            .map(|k| {
                let (http, url, padding) = (&http, &server.url, &padding);
                s.spawn(move || {
                    let body = json!({
                        "candidates": [format!("import time\nx = {k}")],
                        "tests": [format!("time.sleep(0.05)\nassert x == {k}\n{padding}")],
                    });
                    http.post(format!("{url}/v1/judge"))
                        .json(&body)
                        .send()
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|c| *c == 200), "{statuses:?}");
    let peak_mib = peak_rss_kib(server.child.id()) / 1024;
    assert!(
        peak_mib < 200,
        "the server's peak RSS was {peak_mib} MiB under the burst"
    );
    let _ = server.child.kill();
}
