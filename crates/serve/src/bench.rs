//! `bench serve`: what the HTTP service costs over running the same pairs
//! in one batch. The CodeRM workload (each HumanEval task's 5-model
//! samples × its GPT-4 asserts as unittest classes) is judged
//! (a) by the engine in one batch through a fresh store, as `codejury
//! exec` runs it, and against a real server on loopback (fresh store at
//! each level) by 1, 16 and 128 concurrent clients, (b) as one
//! `/v1/judge` request per task and (c) as one `/run_code` request per
//! pair (the program and the assert as one script, as verl sends them);
//! per route and level: throughput, p50/p99 latency, status codes, and
//! verdict agreement with (a).

use crate::{ServeConfig, ServeError, Server};
use codejury_core::Verdict;
use codejury_pipeline::bench::exec::{coderm_tasks, CodermTask, ExecBenchConfig};
use codejury_pipeline::config::{EngineSettings, LimitSettings};
use codejury_pipeline::judge::{JudgeRequest, TestInput};
use codejury_pipeline::{open_store, Sandbox};
use codejury_sandbox::{sinks, Job, PairOutcome, Runner};
use codejury_store::{CacheError, CachedRunner};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Settings of `bench serve`.
#[derive(Debug, Clone)]
pub struct ServeBenchConfig {
    /// Where the workload's files are, and how many tasks to take.
    pub workload: ExecBenchConfig,
    /// Concurrent clients, one level each.
    pub clients: Vec<usize>,
    /// The sandbox, for both the batch and the server.
    pub engine: EngineSettings,
}

/// One route at one level of concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    /// The route: `/v1/judge` (a request per task) or `/run_code` (a
    /// request per pair).
    pub route: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Requests answered.
    pub requests: usize,
    /// Wall seconds from the first request to the last answer.
    pub seconds: f64,
    /// Pairs per second.
    pub pairs_per_second: f64,
    /// Median request latency, milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile request latency, milliseconds.
    pub p99_ms: f64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, usize>,
    /// Pairs whose verdict equals the batch's.
    pub agreement: usize,
    /// This level's seconds over the batch's (1.0: the service costs
    /// nothing over one batch).
    pub over_batch: f64,
}

/// The result of `bench serve`.
#[derive(Debug, Clone, Serialize)]
pub struct ServeBench {
    /// Tasks (requests per level).
    pub tasks: usize,
    /// Pairs per level.
    pub pairs: usize,
    /// Workers of the engine (batch and server alike).
    pub workers: usize,
    /// The batch's wall seconds.
    pub batch_seconds: f64,
    /// The batch's pairs per second.
    pub batch_pairs_per_second: f64,
    /// Each route at each level.
    pub levels: Vec<Level>,
}

fn request(t: &CodermTask) -> JudgeRequest {
    JudgeRequest {
        task_id: Some(t.task_id.clone()),
        entry_point: Some(t.entry_point.clone()),
        candidates: t.programs.clone(),
        tests: t
            .tests
            .iter()
            .map(|c| TestInput::Spec {
                code: c.code.clone(),
                format: Some("unittest".into()),
            })
            .collect(),
        limits: LimitSettings::default(),
        rules: None,
    }
}

/// Verdicts per task, candidate and test.
type Matrices = Vec<Vec<Vec<Verdict>>>;

/// One answer: the request's index, its status, its latency in
/// milliseconds, and its body.
type Answer = (usize, u16, f64, Option<serde_json::Value>);

fn io_error(e: impl std::fmt::Display) -> ServeError {
    ServeError::Io(std::io::Error::other(e.to_string()))
}

/// The batch: every pair through the engine at once; the verdicts per
/// task, candidate and test.
fn batch(engine: &EngineSettings, tasks: &[CodermTask]) -> Result<(f64, Matrices), ServeError> {
    let sandbox = Sandbox::start(engine)?;
    let dir = tempfile::tempdir().map_err(ServeError::Io)?;
    let store = open_store(Some(&dir.path().join("batch.sqlite")))?;
    let runner = CachedRunner::new(sandbox.engine(), &store);
    let limits = LimitSettings::default().limits();
    let mut jobs = Vec::new();
    let mut owner = Vec::new();
    for (k, t) in tasks.iter().enumerate() {
        for (c, program) in t.programs.iter().enumerate() {
            jobs.push(Job {
                candidate: program.clone(),
                entry_point: Some(t.entry_point.clone()),
                prelude: None,
                tests: t.tests.clone(),
                limits,
            });
            owner.push((k, c));
        }
    }
    let mut verdicts: Matrices = tasks
        .iter()
        .map(|t| vec![vec![Verdict::SandboxError; t.tests.len()]; t.programs.len()])
        .collect();
    // Warm the workers first, as the server's are warm when it is timed.
    let warm = Job {
        candidate: "x = 1\n".into(),
        entry_point: None,
        prelude: None,
        tests: vec![codejury_core::TestCase::new(
            sandbox.language().assert_format(),
            "assert x == 1",
        )],
        limits,
    };
    sandbox
        .engine()
        .run(
            vec![warm.clone(), warm],
            &mut sinks::from_fn(|_: PairOutcome| Ok::<_, codejury_sandbox::SandboxError>(true)),
        )
        .map_err(io_error)?;
    let start = Instant::now();
    runner
        .run_jobs(
            jobs,
            &mut sinks::from_fn(|o: PairOutcome| {
                let (k, c) = owner[o.job];
                verdicts[k][c][o.test] = o.verdict;
                Ok::<_, CacheError>(true)
            }),
        )
        .map_err(io_error)?;
    Ok((start.elapsed().as_secs_f64(), verdicts))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One route's requests, and how many of the batch's verdicts an answer
/// reproduces.
struct Phase<'a> {
    route: &'static str,
    bodies: Vec<String>,
    agree: &'a dyn Fn(usize, &serde_json::Value) -> usize,
}

/// Sends every body of `phase` from `clients` concurrent clients.
async fn drive(
    http: &reqwest::Client,
    base: &str,
    phase: &Phase<'_>,
    clients: usize,
) -> (f64, Vec<Answer>) {
    let url = format!("{base}{}", phase.route);
    let next = Arc::new(AtomicUsize::new(0));
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::new(Mutex::new(Vec::new()));
    let bodies = Arc::new(phase.bodies.clone());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (http, url, next, answers, bodies) = (
            http.clone(),
            url.clone(),
            next.clone(),
            answers.clone(),
            bodies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let (code, json) = match r {
                    Ok(r) => {
                        let code = r.status().as_u16();
                        (code, r.json::<serde_json::Value>().await.ok())
                    }
                    Err(_) => (0, None),
                };
                let ms = t.elapsed().as_secs_f64() * 1e3;
                if let Ok(mut a) = answers.lock() {
                    a.push((i, code, ms, json));
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let answers = answers
        .lock()
        .map(|mut a| std::mem::take(&mut *a))
        .unwrap_or_default();
    (seconds, answers)
}

/// The numbers of one phase at one level.
fn measure(
    phase: &Phase<'_>,
    clients: usize,
    pairs: usize,
    seconds: f64,
    answers: &[Answer],
) -> Level {
    let mut latencies: Vec<f64> = answers.iter().map(|a| a.2).collect();
    latencies.sort_by(f64::total_cmp);
    let mut statuses = BTreeMap::new();
    let mut agreement = 0;
    for (i, code, _, json) in answers {
        *statuses.entry(*code).or_insert(0) += 1;
        if let Some(v) = json {
            agreement += (phase.agree)(*i, v);
        }
    }
    Level {
        route: phase.route.to_string(),
        clients,
        requests: answers.len(),
        seconds,
        pairs_per_second: pairs as f64 / seconds.max(1e-9),
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        statuses,
        agreement,
        over_batch: 0.0,
    }
}

/// One level of concurrency: a fresh server and store, then each phase
/// in turn from `clients` clients.
fn level(
    config: &ServeBenchConfig,
    phases: &[Phase<'_>],
    pairs: usize,
    most_pairs: usize,
    clients: usize,
) -> Result<Vec<Level>, ServeError> {
    let dir = tempfile::tempdir().map_err(ServeError::Io)?;
    let server = Server::new(&ServeConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        queue_pairs: most_pairs.saturating_mul(clients.max(1)),
        engine: config.engine.clone(),
        store: Some(dir.path().join("serve.sqlite")),
        ..ServeConfig::default()
    })?;
    let base = format!("http://{}", server.local_addr()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Io)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(server.run(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .map_err(io_error)?;
    let mut out = Vec::new();
    runtime.block_on(async {
        // Warm the server's workers on a request outside the workload.
        let _ = http
            .post(format!("{base}/v1/judge"))
            .body(r#"{"candidates": ["x = 1"], "tests": ["assert x == 1"]}"#)
            .send()
            .await;
        for phase in phases {
            let (seconds, answers) = drive(&http, &base, phase, clients).await;
            out.push(measure(phase, clients, pairs, seconds, &answers));
        }
    });
    let _ = stop.send(());
    runtime
        .block_on(serving)
        .map_err(io_error)?
        .map_err(io_error)?;
    Ok(out)
}

/// Runs `bench serve`.
pub fn bench(config: &ServeBenchConfig) -> Result<ServeBench, ServeError> {
    let tasks = coderm_tasks(&config.workload)?;
    let requests: Vec<JudgeRequest> = tasks.iter().map(request).collect();
    let (batch_seconds, expected) = batch(&config.engine, &tasks)?;
    let pairs: usize = expected.iter().flatten().map(Vec::len).sum();
    let most = requests.iter().map(JudgeRequest::pairs).max().unwrap_or(1);

    // /v1/judge: a request per task.
    let judge_agree = |i: usize, v: &serde_json::Value| -> usize {
        let mut n = 0;
        for (c, row) in expected[i].iter().enumerate() {
            for (j, want) in row.iter().enumerate() {
                n += usize::from(v["verdicts"][c][j].as_str() == Some(want.as_str()));
            }
        }
        n
    };
    let judge = Phase {
        route: "/v1/judge",
        bodies: requests
            .iter()
            .map(|r| serde_json::to_string(r).map_err(io_error))
            .collect::<Result<_, _>>()?,
        agree: &judge_agree,
    };
    // /run_code: a request per pair, as verl sends them (the program and
    // the assert as one script; exit code 0 is a pass).
    let mut owner = Vec::new();
    let mut bodies = Vec::new();
    for (k, t) in tasks.iter().enumerate() {
        for (c, program) in t.programs.iter().enumerate() {
            for (j, assert) in t.asserts.iter().enumerate() {
                let body = serde_json::json!({
                    "code": format!("{program}\n\n{assert}\n"),
                    "language": "python", "run_timeout": 1.0, "compile_timeout": 10,
                    "memory_limit_MB": 1024, "stdin": "", "files": {}, "fetch_files": [],
                });
                bodies.push(body.to_string());
                owner.push((k, c, j));
            }
        }
    }
    let run_code_agree = |i: usize, v: &serde_json::Value| -> usize {
        let (k, c, j) = owner[i];
        usize::from((v["status"] == "Success") == expected[k][c][j].passed())
    };
    let run_code = Phase {
        route: "/run_code",
        bodies,
        agree: &run_code_agree,
    };
    let phases = [judge, run_code];
    let mut levels = Vec::new();
    for &clients in &config.clients {
        for mut l in level(config, &phases, pairs, most, clients)? {
            l.over_batch = l.seconds / batch_seconds.max(1e-9);
            levels.push(l);
        }
    }
    let workers = config.engine.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    Ok(ServeBench {
        tasks: tasks.len(),
        pairs,
        workers,
        batch_seconds,
        batch_pairs_per_second: pairs as f64 / batch_seconds.max(1e-9),
        levels,
    })
}
