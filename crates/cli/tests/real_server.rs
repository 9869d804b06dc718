//! The HTTP backend and `codejury run` against a real OpenAI-compatible
//! server: llama-cpp-python's, serving the SmolLM2 GGUF on 127.0.0.1.
//!
//! `.ci/run` installs the server into a venv and points
//! `CODEJURY_LLAMA_PYTHON` at its interpreter. Without it this test fails:
//! a skipped real-server test would prove nothing.

mod common;

use codejury_llm::http::{Api, HttpConfig, HttpGenerator};
use codejury_llm::{Generator, Message, Prompt, Request, Sampling};
use common::{codejury, json_of};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn llama_python() -> PathBuf {
    let p = std::env::var_os("CODEJURY_LLAMA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap())
                .join(".cache/codejury-llama-venv/bin/python")
        });
    assert!(
        p.exists(),
        "no llama-cpp-python server at {} (set CODEJURY_LLAMA_PYTHON; .ci/run installs it)",
        p.display()
    );
    p
}

fn models_ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /v1/models HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

fn start(dir: &std::path::Path) -> Server {
    let model = codejury_bench::fetch::locate(&codejury_bench::fetch::SMOLLM2)
        .expect("the SmolLM2 GGUF must be fetchable");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join("server.log");
    let logf = std::fs::File::create(&log).unwrap();
    let child = Command::new(llama_python())
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(&model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--model_alias",
            "smollm2",
            "--n_ctx",
            "2048",
            "--n_threads",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(logf)
        .spawn()
        .expect("cannot start llama_cpp.server");
    let mut server = Server {
        child,
        url: format!("http://127.0.0.1:{port}/v1"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    while !models_ready(port) {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "llama_cpp.server exited with {status}:\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "llama_cpp.server did not come up in 180 s:\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

/// `codejury run` on the first `limit` tasks of `bench`, 2 candidates and 2
/// test generations each from `backend`, into `out`; panics with the
/// server's log if it fails.
fn run_against(
    server: &Server,
    backend: &str,
    bench: &str,
    limit: usize,
    out: std::path::PathBuf,
) -> std::process::Output {
    let store = out.with_extension("sqlite");
    let done = codejury()
        .args([
            "--json",
            "run",
            "--bench",
            bench,
            "--limit",
            &limit.to_string(),
        ])
        .args([
            "-n",
            "2",
            "-m",
            "2",
            "--max-tokens",
            "200",
            "--test-max-tokens",
            "300",
        ])
        .args(["--repeats", "2", "--policy", backend, "--tester", backend])
        .arg("--store")
        .arg(store)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}\nserver log:\n{}",
        String::from_utf8_lossy(&done.stderr),
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
    done
}

#[test]
fn samples_and_a_whole_run_come_from_a_real_llama_cpp_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());

    // The backend alone: n samples with usage.
    let mut config = HttpConfig::new("smollm2", Api::Chat, vec![server.url.clone()]);
    config.concurrency = 2;
    let g = HttpGenerator::new(config).unwrap();
    // The test owns the runtime, as the command line does.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = rt
        .block_on(g.generate(Request {
            id: 0,
            task_id: "t".into(),
            prompt: Prompt::Chat(vec![Message::user(
                "Write a Python function that reverses a string.",
            )]),
            n: 2,
            start: 0,
            sampling: Sampling {
                max_tokens: 48,
                ..Sampling::default()
            },
        }))
        .expect("the server answers");
    assert_eq!(r.completions.len(), 2);
    assert!(r.completions.iter().all(|c| !c.text.trim().is_empty()));
    assert!(r.prompt_tokens > 0 && r.completion_tokens > 0, "{r:?}");

    // The whole pipeline.
    let backend = format!("openai:smollm2@{}", server.url);
    let out = run_against(&server, &backend, "humaneval", 2, dir.path().join("out"));
    let s = json_of(out);
    assert_eq!(s["tasks"], 2);
    assert_eq!(s["solutions"], 4);
    for stage in ["solutions", "tests"] {
        let st = &s["stages"][stage];
        assert_eq!(st["samples_new"], 4, "{stage}: {st}");
        assert!(
            st["completion_tokens"].as_u64().unwrap() > 0,
            "{stage}: {st}"
        );
        assert_eq!(st["failed_requests"], 0);
    }
    assert!(dir.path().join("out/report.md").exists());

    // The same server writing Java for MBXP: the small model writes poor
    // Java; the mechanics must hold — candidates, test programs, verdicts
    // from javac and the JVM in the sandbox, the report.
    let out = run_against(&server, &backend, "mbxp-java", 1, dir.path().join("java"));
    let s = json_of(out);
    assert_eq!(s["tasks"], 1, "{s}");
    assert_eq!(s["solutions"], 2, "{s}");
    assert_eq!(s["stages"]["tests"]["samples_new"], 2, "{s}");
    let selections = std::fs::read_to_string(dir.path().join("java/selections.jsonl")).unwrap();
    assert!(selections.contains("\"MBJP/1\""), "{selections}");
}
