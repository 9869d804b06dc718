//! The approaches `bench exec` measures the engine against, each run on the
//! same pairs: a fresh interpreter per pair, the CodeRM paper's harness
//! method, and plain `exec` with no isolation (the floor).

use super::{baseline_error, Pair};
use crate::error::Result;
use crate::reporter::{Reporter, Stage};
use codejury_sandbox::Job;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BENCH_FLOOR: &str = include_str!("../py/bench_floor.py");
const BENCH_PAPER: &str = include_str!("../py/bench_paper.py");

/// What a baseline measured: wall seconds, pass per pair, and (where the
/// baseline can tell) the CPU seconds it used.
pub(super) struct Measured {
    pub(super) seconds: f64,
    pub(super) passed: Vec<bool>,
    pub(super) cpu_seconds: Option<f64>,
}

/// The program and test of a pair as one script, in the order the engine
/// runs them; unittest classes run through `unittest.main`'s machinery.
fn script(job: &Job, test: usize) -> String {
    let t = &job.tests[test];
    let mut s = format!("{}\n{}\n", job.candidate, t.code);
    if t.format.as_str() == "unittest" {
        s.push_str(
            "\nimport sys as _s, unittest as _u\n_r = _u.main(exit=False, argv=['x'], verbosity=0).result\n_s.exit(0 if _r.wasSuccessful() and _r.testsRun else 1)\n",
        );
    }
    s
}

/// (a) Each pair as `python -c program+test` in a fresh interpreter,
/// `workers` at a time; a pair passes iff the process exits 0 within the
/// wall-clock limit (how the peers that start a process per pair judge).
pub(super) fn process_per_pair(
    python: &Path,
    jobs: &[Job],
    pairs: &[Pair],
    workers: usize,
    timeout_ms: u64,
    reporter: &dyn Reporter,
) -> Result<Measured> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<bool>> = (0..pairs.len()).map(|_| Mutex::new(false)).collect();
    let stage = Stage::Bench("process/pair".into());
    reporter.start(&stage, pairs.len() as u64, 0);
    let start = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..workers {
            handles.push(s.spawn(|| -> Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pairs.len() {
                        return Ok(());
                    }
                    let p = &pairs[i];
                    let mut child = Command::new(python)
                        .arg("-c")
                        .arg(script(&jobs[p.job], p.test))
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .map_err(|e| {
                            baseline_error(format!("cannot start {}: {e}", python.display()))
                        })?;
                    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
                    let ok = loop {
                        if let Some(status) = child
                            .try_wait()
                            .map_err(|e| baseline_error(e.to_string()))?
                        {
                            break status.success();
                        }
                        if Instant::now() > deadline {
                            let _ = child.kill();
                            let _ = child.wait();
                            break false;
                        }
                        std::thread::sleep(Duration::from_micros(500));
                    };
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = ok;
                    reporter.advance(&stage, 1);
                }
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| baseline_error("a baseline thread panicked".into()))??;
        }
        Ok(())
    })?;
    reporter.finish(&stage);
    Ok(Measured {
        seconds: start.elapsed().as_secs_f64(),
        passed: results
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect(),
        cpu_seconds: None,
    })
}

/// The pairs as `[program, test, format]` triples, the scripts' input.
fn triples(jobs: &[Job], pairs: &[Pair]) -> Vec<(String, String, String)> {
    pairs
        .iter()
        .map(|p| {
            let t = &jobs[p.job].tests[p.test];
            (
                jobs[p.job].candidate.clone(),
                t.code.clone(),
                t.format.as_str().to_string(),
            )
        })
        .collect()
}

fn io(e: std::io::Error) -> crate::error::Error {
    baseline_error(e.to_string())
}

/// Runs `python script args...` and waits; an unsuccessful exit is an error
/// carrying the script's stderr.
fn run_script(python: &Path, script: &Path, args: &[String]) -> Result<()> {
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(io)?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(baseline_error(format!(
            "{} failed ({}): {}",
            script.display(),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    Ok(())
}

/// (e) The CodeRM paper's harness method: a warm Python forks one
/// `multiprocessing.Process` per pair, `processes` at a time (10 in the
/// paper), each with a wall-clock alarm.
pub(super) fn paper_method(
    python: &Path,
    jobs: &[Job],
    pairs: &[Pair],
    processes: usize,
    timeout_ms: u64,
) -> Result<Measured> {
    let dir = tempfile::tempdir().map_err(io)?;
    let script = dir.path().join("paper.py");
    std::fs::write(&script, BENCH_PAPER).map_err(io)?;
    let input = dir.path().join("pairs.json");
    let bytes =
        serde_json::to_vec(&triples(jobs, pairs)).map_err(|e| baseline_error(e.to_string()))?;
    std::fs::write(&input, bytes).map_err(io)?;
    let output = dir.path().join("passed.json");
    let start = Instant::now();
    run_script(
        python,
        &script,
        &[
            input.display().to_string(),
            processes.to_string(),
            format!("{}", timeout_ms as f64 / 1000.0),
            output.display().to_string(),
        ],
    )?;
    let seconds = start.elapsed().as_secs_f64();
    let passed: Vec<bool> = serde_json::from_slice(&std::fs::read(&output).map_err(io)?)
        .map_err(|e| baseline_error(format!("the paper-method script's output: {e}")))?;
    if passed.len() != pairs.len() {
        return Err(baseline_error(format!(
            "the paper-method script judged {} of {} pairs",
            passed.len(),
            pairs.len()
        )));
    }
    Ok(Measured {
        seconds,
        passed,
        cpu_seconds: None,
    })
}

#[derive(serde::Deserialize)]
struct FloorOut {
    passed: Vec<bool>,
    cpu_s: f64,
}

/// (d) The floor: all pairs with plain `exec` (and the unittest run, for
/// unittest tests) in `workers` Python processes, no isolation, a CPU-time
/// timer per pair. Its CPU seconds are the work itself plus the time-outs
/// at exactly their limit.
pub(super) fn floor(
    python: &Path,
    jobs: &[Job],
    pairs: &[Pair],
    workers: usize,
    timeout_ms: u64,
) -> Result<Measured> {
    let dir = tempfile::tempdir().map_err(io)?;
    let script = dir.path().join("floor.py");
    std::fs::write(&script, BENCH_FLOOR).map_err(io)?;
    let all = triples(jobs, pairs);
    let mut shards = Vec::new();
    for w in 0..workers {
        let shard: Vec<_> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| i % workers == w)
            .map(|(_, t)| t)
            .collect();
        let path = dir.path().join(format!("shard{w}.json"));
        let bytes = serde_json::to_vec(&shard).map_err(|e| baseline_error(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(io)?;
        shards.push(path);
    }
    let limit = format!("{}", timeout_ms as f64 / 1000.0);
    let start = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = shards
            .iter()
            .map(|shard| {
                let (script, limit) = (&script, &limit);
                s.spawn(move || {
                    run_script(
                        python,
                        script,
                        &[
                            shard.display().to_string(),
                            limit.clone(),
                            shard.with_extension("out").display().to_string(),
                        ],
                    )
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| baseline_error("a floor thread panicked".into()))??;
        }
        Ok(())
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let mut per_shard = Vec::new();
    let mut cpu = 0.0;
    for p in &shards {
        let out: FloorOut =
            serde_json::from_slice(&std::fs::read(p.with_extension("out")).map_err(io)?)
                .map_err(|e| baseline_error(format!("the floor script's output: {e}")))?;
        cpu += out.cpu_s;
        per_shard.push(out.passed.into_iter());
    }
    let mut passed = Vec::with_capacity(pairs.len());
    for i in 0..pairs.len() {
        let got = per_shard[i % workers].next().ok_or_else(|| {
            baseline_error("the floor script judged fewer pairs than it was given".into())
        })?;
        passed.push(got);
    }
    Ok(Measured {
        seconds,
        passed,
        cpu_seconds: Some(cpu),
    })
}
