//! The HTTP backend against real servers on loopback that misbehave on
//! purpose: 500s, 429 with Retry-After, hangs, dropped connections,
//! malformed JSON, a dead endpoint, and servers that ignore `n`.

use codejury_llm::drive::{self, GenerationSink};
use codejury_llm::http::{Api, HttpConfig, HttpGenerator};
use codejury_llm::{GenError, Generator, Message, Prompt, Request, Response, Sampling};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What the server does with one request.
#[derive(Debug, Clone, Copy)]
enum Act {
    Ok,
    Status(u16),
    TooMany {
        retry_after_s: u32,
    },
    Hang(Duration),
    Drop,
    Malformed,
    /// Answer with one choice whatever `n` says.
    OneChoice,
}

#[derive(Default)]
struct Seen {
    bodies: Vec<serde_json::Value>,
    times: Vec<Instant>,
}

struct Server {
    url: String,
    script: Arc<Mutex<VecDeque<Act>>>,
    seen: Arc<Mutex<Seen>>,
    in_flight_max: Arc<AtomicUsize>,
}

fn read_request(stream: &mut TcpStream) -> Option<serde_json::Value> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn respond(stream: &mut TcpStream, status: u16, extra: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
}

fn ok_body(n: usize, seed: u64) -> String {
    let choices: Vec<serde_json::Value> = (0..n)
        .map(|k| serde_json::json!({"message": {"role": "assistant", "content": format!("s{seed}-{k}")}, "finish_reason": "stop"}))
        .collect();
    serde_json::json!({"choices": choices, "usage": {"prompt_tokens": 11, "completion_tokens": 3 * n}})
        .to_string()
}

fn serve(script: Vec<Act>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let in_flight_max = Arc::new(AtomicUsize::new(0));
    let (s2, seen2, inf, infmax) = (
        script.clone(),
        seen.clone(),
        in_flight.clone(),
        in_flight_max.clone(),
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (s2, seen2, inf, infmax) = (s2.clone(), seen2.clone(), inf.clone(), infmax.clone());
            std::thread::spawn(move || {
                let Some(body) = read_request(&mut stream) else {
                    return;
                };
                let now = inf.fetch_add(1, Ordering::SeqCst) + 1;
                infmax.fetch_max(now, Ordering::SeqCst);
                let n = body["n"].as_u64().unwrap_or(1) as usize;
                let seed = body["seed"].as_u64().unwrap_or(0);
                {
                    let mut s = seen2.lock().unwrap();
                    s.bodies.push(body);
                    s.times.push(Instant::now());
                }
                let act = s2.lock().unwrap().pop_front().unwrap_or(Act::Ok);
                match act {
                    Act::Ok => {
                        std::thread::sleep(Duration::from_millis(30));
                        respond(&mut stream, 200, "", &ok_body(n, seed));
                    }
                    Act::OneChoice => respond(&mut stream, 200, "", &ok_body(1, seed)),
                    Act::Status(code) => respond(&mut stream, code, "", r#"{"error":"scripted"}"#),
                    Act::TooMany { retry_after_s } => respond(
                        &mut stream,
                        429,
                        &format!("retry-after: {retry_after_s}\r\n"),
                        r#"{"error":"slow down"}"#,
                    ),
                    Act::Hang(d) => {
                        std::thread::sleep(d);
                    }
                    Act::Drop => {
                        let _ = stream.shutdown(std::net::Shutdown::Both);
                    }
                    Act::Malformed => respond(&mut stream, 200, "", r#"{"choices": [{"message": "#),
                }
                inf.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Server {
        url,
        script,
        seen,
        in_flight_max,
    }
}

fn config(urls: Vec<String>) -> HttpConfig {
    let mut c = HttpConfig::new("m", Api::Chat, urls);
    c.backoff = Duration::from_millis(20);
    c.max_backoff = Duration::from_secs(5);
    c.timeout = Duration::from_secs(2);
    c.cooldown = Duration::from_secs(30);
    c
}

fn request(id: usize, n: usize) -> Request {
    Request {
        id,
        task_id: format!("T/{id}"),
        prompt: Prompt::Chat(vec![Message::user(format!("question {id}"))]),
        n,
        start: 0,
        sampling: Sampling::default(),
    }
}

/// A sink that keeps every result, and stops after `stop_after` if set.
struct Keep {
    out: Vec<(usize, Result<Response, GenError>)>,
    stop_after: Option<usize>,
}

impl GenerationSink for Keep {
    type Error = std::convert::Infallible;

    fn response(&mut self, id: usize, r: Result<Response, GenError>) -> Result<bool, Self::Error> {
        self.out.push((id, r));
        Ok(self.stop_after.is_none_or(|n| self.out.len() < n))
    }
}

/// The test owns the runtime, as the command line does.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn run(g: &HttpGenerator, reqs: Vec<Request>) -> Vec<(usize, Result<Response, GenError>)> {
    let rt = runtime();
    let mut sink = Keep {
        out: Vec::new(),
        stop_after: None,
    };
    drive::blocking::generate_all(rt.handle(), g, reqs, &CancellationToken::new(), &mut sink)
        .unwrap();
    let mut out = sink.out;
    out.sort_by_key(|(id, _)| *id);
    out
}

#[test]
fn transient_failures_are_retried_until_the_samples_arrive() {
    let s = serve(vec![
        Act::Status(500),
        Act::Status(503),
        Act::Drop,
        Act::Malformed,
        Act::Hang(Duration::from_secs(4)),
    ]);
    let g = HttpGenerator::new(config(vec![s.url.clone()])).unwrap();
    let out = run(&g, vec![request(0, 2)]);
    let r = out[0].1.as_ref().expect("retried to success");
    assert_eq!(r.completions.len(), 2);
    assert_eq!(r.calls, 6, "five scripted failures, then success");
    assert_eq!((r.prompt_tokens, r.completion_tokens), (11, 6));
    assert_eq!(s.seen.lock().unwrap().bodies.len(), 6);
}

#[test]
fn retry_after_is_honoured() {
    let s = serve(vec![Act::TooMany { retry_after_s: 1 }]);
    let g = HttpGenerator::new(config(vec![s.url.clone()])).unwrap();
    let out = run(&g, vec![request(0, 1)]);
    assert!(out[0].1.is_ok());
    let seen = s.seen.lock().unwrap();
    let gap = seen.times[1] - seen.times[0];
    assert!(gap >= Duration::from_millis(950), "waited only {gap:?}");
}

#[test]
fn a_client_error_is_not_retried_and_others_go_on() {
    let s = serve(vec![Act::Status(400)]);
    let mut c = config(vec![s.url.clone()]);
    c.concurrency = 1;
    let g = HttpGenerator::new(c).unwrap();
    let out = run(&g, vec![request(0, 1), request(1, 1)]);
    match &out[0].1 {
        Err(GenError::Rejected { status: 400, .. }) => {}
        other => panic!("expected a 400 rejection, got {other:?}"),
    }
    assert!(out[1].1.is_ok(), "the other request still completes");
    assert_eq!(s.seen.lock().unwrap().bodies.len(), 2);
}

#[test]
fn giving_up_reports_the_last_error() {
    let s = serve(vec![Act::Status(500); 10]);
    let mut c = config(vec![s.url.clone()]);
    c.max_attempts = 3;
    let g = HttpGenerator::new(c).unwrap();
    let out = run(&g, vec![request(0, 1)]);
    let e = out[0].1.as_ref().unwrap_err().to_string();
    assert!(e.contains("3 attempts") && e.contains("HTTP 500"), "{e}");
}

#[test]
fn a_dead_endpoint_is_set_aside_and_the_live_one_serves() {
    let s = serve(vec![]);
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/v1", l.local_addr().unwrap())
    }; // closed at once: connections are refused
    let mut c = config(vec![dead, s.url.clone()]);
    c.concurrency = 1;
    let g = HttpGenerator::new(c).unwrap();
    let out = run(&g, (0..6).map(|i| request(i, 1)).collect());
    assert!(out.iter().all(|(_, r)| r.is_ok()));
    let calls: u32 = out.iter().map(|(_, r)| r.as_ref().unwrap().calls).sum();
    assert!(
        calls <= 7,
        "the dead endpoint cost at most one failed call: {calls}"
    );
    assert_eq!(s.seen.lock().unwrap().bodies.len(), 6);
}

#[test]
fn servers_that_ignore_n_are_topped_up_with_fresh_seeds() {
    let s = serve(vec![Act::OneChoice; 3]);
    let g = HttpGenerator::new(config(vec![s.url.clone()])).unwrap();
    let mut req = request(0, 3);
    req.start = 5;
    req.sampling.seed = Some(100);
    let out = run(&g, vec![req]);
    let r = out[0].1.as_ref().unwrap();
    assert_eq!(r.completions.len(), 3);
    let seen = s.seen.lock().unwrap();
    let asked: Vec<(u64, u64)> = seen
        .bodies
        .iter()
        .map(|b| (b["n"].as_u64().unwrap(), b["seed"].as_u64().unwrap()))
        .collect();
    assert_eq!(asked, [(3, 105), (2, 106), (1, 107)]);
    assert_eq!(seen.bodies[0]["model"], "m");
    assert_eq!(seen.bodies[0]["messages"][0]["content"], "question 0");
}

#[test]
fn concurrency_is_bounded() {
    let s = serve(vec![]);
    let mut c = config(vec![s.url.clone()]);
    c.concurrency = 3;
    let g = HttpGenerator::new(c).unwrap();
    let out = run(&g, (0..20).map(|i| request(i, 1)).collect());
    assert!(out.iter().all(|(_, r)| r.is_ok()));
    let max = s.in_flight_max.load(Ordering::SeqCst);
    assert!((1..=3).contains(&max), "{max} in flight");
    assert!(s.script.lock().unwrap().is_empty());
}

#[test]
fn a_sink_that_says_stop_stops() {
    let s = serve(vec![]);
    let mut c = config(vec![s.url.clone()]);
    c.concurrency = 1;
    let g = HttpGenerator::new(c).unwrap();
    let rt = runtime();
    let mut sink = Keep {
        out: Vec::new(),
        stop_after: Some(2),
    };
    let reqs = (0..10).map(|i| request(i, 1)).collect();
    drive::blocking::generate_all(rt.handle(), &g, reqs, &CancellationToken::new(), &mut sink)
        .unwrap();
    assert_eq!(sink.out.len(), 2);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        s.seen.lock().unwrap().bodies.len() <= 4,
        "the rest were dropped"
    );
}

#[test]
fn cancelling_stops_generation_without_waiting_for_calls_in_flight() {
    let s = serve(vec![Act::Hang(Duration::from_secs(30))]);
    let mut c = config(vec![s.url.clone()]);
    c.timeout = Duration::from_secs(60);
    let g = HttpGenerator::new(c).unwrap();
    let rt = runtime();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    rt.spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c2.cancel();
    });
    let mut sink = Keep {
        out: Vec::new(),
        stop_after: None,
    };
    let t = Instant::now();
    drive::blocking::generate_all(rt.handle(), &g, vec![request(0, 1)], &cancel, &mut sink)
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(sink.out.is_empty());
}

/// A server awaits the backend on its own runtime: no runtime inside the
/// backend to block on or to drop in async context (which panics).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_runs_and_drops_inside_a_callers_runtime() {
    let s = serve(vec![]);
    let g = HttpGenerator::new(config(vec![s.url.clone()])).unwrap();
    let r = g.generate(request(0, 2)).await.unwrap();
    assert_eq!(r.completions.len(), 2);
    drop(g);
}
