//! The engine: a pool of workers that runs jobs and pushes verdicts.
//!
//! The engine drives the N×M matrix and *pushes* each verdict into the
//! caller's [`VerdictSink`] as soon as it exists (as ripgrep's searcher
//! pushes matches into a `Sink`): the caller can store it, draw progress, or
//! answer `false` to stop taking new jobs, without the engine knowing which.
//! It knows no language: its [`Toolchain`] says how to start a worker.

use crate::isolation::{seccomp_program, IsolationReport};
use crate::queue::{Piece, PieceQueue};
use crate::sink::VerdictSink;
use crate::toolchain::{MemoryFallback, Toolchain};
use crate::worker::{Worker, WorkerContext};
use crate::{Limits, SandboxError};
use codejury_core::{TestCase, Verdict};
use crossbeam_channel::{unbounded, RecvTimeoutError};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Once};
use std::time::Duration;

/// How tests of one candidate are isolated from each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A fresh process per (candidate, test) pair, as the CodeRM harness
    /// runs them: no state leaks between tests.
    #[default]
    Faithful,
    /// One process per candidate runs its tests in turn; a test that times
    /// out or crashes costs a new process for the rest. Faster; tests can
    /// see each other's side effects.
    Fast,
}

impl Mode {
    /// The name used on the command line, on the wire and in cache keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Faithful => "faithful",
            Mode::Fast => "fast",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "faithful" => Ok(Mode::Faithful),
            "fast" => Ok(Mode::Fast),
            _ => Err(format!("unknown mode {s:?} (expected faithful or fast)")),
        }
    }
}

/// One candidate program and the tests to run against it.
#[derive(Debug, Clone)]
pub struct Job {
    /// The whole program, defined once per runner.
    pub candidate: String,
    /// The function `check`-format tests are called with.
    pub entry_point: Option<String>,
    /// Trusted code (such as a reference solution) run in its own namespace
    /// before the candidate is defined; tests see that namespace as the
    /// global `__cj_prelude__`.
    pub prelude: Option<String>,
    /// The tests, run in order.
    pub tests: Vec<TestCase>,
    /// Limits for every pair of this job.
    pub limits: Limits,
}

/// The verdict of one (candidate, test) pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairOutcome {
    /// Index of the job in the list given to [`Engine::run`].
    pub job: usize,
    /// Index of the test within the job.
    pub test: usize,
    /// What happened.
    pub verdict: Verdict,
    /// CPU time of the test, in milliseconds.
    pub cpu_ms: f64,
    /// Wall time of the test, in milliseconds.
    pub wall_ms: f64,
    /// A short explanation for anything but a pass.
    pub message: String,
    /// What the test stored in `__cj_output__`, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// True when the outcome came from a store of earlier results rather
    /// than from running the pair now.
    #[serde(default)]
    pub cached: bool,
}

/// Anything that runs jobs and pushes one outcome per pair: the [`Engine`]
/// itself, or a cache in front of it. `Sync`, so one runner serves many
/// callers at once.
pub trait Runner: Sync {
    /// What the runner itself can fail with; a sink's error type must be
    /// able to carry it.
    type Error: From<SandboxError>;

    /// Runs the jobs; see [`Engine::run`] for the contract.
    fn run_jobs<S>(&self, jobs: Vec<Job>, sink: &mut S) -> Result<(), S::Error>
    where
        S: VerdictSink,
        S::Error: From<Self::Error>;
}

impl Runner for Engine {
    type Error = SandboxError;

    fn run_jobs<S>(&self, jobs: Vec<Job>, sink: &mut S) -> Result<(), S::Error>
    where
        S: VerdictSink,
        S::Error: From<SandboxError>,
    {
        self.run(jobs, sink)
    }
}

/// How an engine is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Parallel workers; defaults to the number of cores.
    pub workers: usize,
    /// Faithful (a process per pair) or fast (a process per candidate).
    pub mode: Mode,
    /// Isolation layers to use; detected if unset. Tests use this to force
    /// the fallback path.
    pub layers: Option<IsolationReport>,
    /// Size of each worker's private tmpfs (namespaces only).
    pub tmpfs_bytes: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            mode: Mode::Faithful,
            layers: None,
            tmpfs_bytes: 256 << 20,
        }
    }
}

/// Runs jobs in isolated warm workers of one toolchain. `Sync`: several
/// callers may run jobs at once; they share one pool of at most
/// `workers` warm workers, which outlive the runs that started them (a
/// server's requests would otherwise each pay for starting zygotes, and
/// concurrent runs would oversubscribe the cores).
pub struct Engine {
    config: EngineConfig,
    ctx: Arc<WorkerContext>,
    /// Starts every worker a run needs (see [`Spawner`]).
    spawner: Spawner,
    scratch: tempfile::TempDir,
    /// Numbers workers across concurrent runs, so their scratch directories
    /// and cgroups never collide.
    next_worker: AtomicUsize,
    /// Warm workers no run is using, with their numbers.
    idle: Mutex<Vec<(usize, Worker)>>,
    /// Workers busy at this moment, across every caller: at most
    /// `config.workers`.
    busy: Mutex<usize>,
    /// Signalled when a worker slot frees up.
    freed: Condvar,
}

impl Drop for Engine {
    /// Kills the idle workers first, while their scratch directories and
    /// the spawner thread (whose exit would SIGKILL them) still exist.
    fn drop(&mut self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// What the spawner thread is asked to start.
struct SpawnOrder {
    name: String,
    dir: std::path::PathBuf,
    memory_bytes: u64,
    nproc: u64,
    reply: crossbeam_channel::Sender<Result<Worker, SandboxError>>,
}

/// Starts workers from one thread that lives as long as the engine. A
/// zygote is started with `PR_SET_PDEATHSIG`, which fires when the
/// *thread* that forked it exits, not the process; workers that outlive
/// the run that needed them (the idle pool) must therefore not be forked
/// by the run's own threads. When the engine goes, the thread ends and
/// takes every worker with it.
struct Spawner {
    orders: crossbeam_channel::Sender<SpawnOrder>,
    language: String,
}

impl Spawner {
    fn start(ctx: Arc<WorkerContext>) -> Result<Spawner, SandboxError> {
        let (orders, rx) = unbounded::<SpawnOrder>();
        let language = ctx.toolchain.language().to_string();
        let spawn_error = |source| SandboxError::Spawn {
            language: language.clone(),
            source,
        };
        std::thread::Builder::new()
            .name("codejury-spawner".into())
            .spawn(move || {
                for o in rx {
                    let w = Worker::spawn(&ctx, &o.name, &o.dir, o.memory_bytes, o.nproc);
                    let _ = o.reply.send(w);
                }
            })
            .map_err(spawn_error)?;
        Ok(Spawner { orders, language })
    }

    fn spawn(
        &self,
        name: &str,
        dir: &std::path::Path,
        memory_bytes: u64,
        nproc: u64,
    ) -> Result<Worker, SandboxError> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let gone = || SandboxError::Spawn {
            language: self.language.clone(),
            source: std::io::Error::other("the engine's spawner thread is gone"),
        };
        self.orders
            .send(SpawnOrder {
                name: name.to_string(),
                dir: dir.to_path_buf(),
                memory_bytes,
                nproc,
                reply,
            })
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

/// A worker slot held by one of a run's threads; given back on drop.
struct Slot<'a>(&'a Engine);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(|e| e.into_inner());
        *busy -= 1;
        self.0.freed.notify_one();
    }
}

static WARN_ONCE: Once = Once::new();

/// Extra time the watchdog grants beyond a pair's wall limit before it
/// declares the worker itself stuck.
const WATCHDOG_SLACK: Duration = Duration::from_secs(10);

#[derive(Serialize)]
struct WireLimits {
    wall_ms: u64,
    cpu_ms: u64,
    memory_bytes: u64,
    fsize_bytes: u64,
    output_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rlimit_as_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rlimit_nproc: Option<u64>,
}

#[derive(Serialize)]
struct WireJob<'a> {
    job: usize,
    code: &'a str,
    entry_point: Option<&'a str>,
    prelude: Option<&'a str>,
    tests: Vec<&'a TestCase>,
    mode: Mode,
    limits: WireLimits,
}

/// Where a pair's time went, as the zygote saw it (milliseconds).
#[derive(Deserialize, Default, Clone, Copy)]
struct WireProf {
    #[serde(default)]
    define: f64,
    #[serde(default)]
    fork: f64,
    #[serde(default)]
    test: f64,
}

#[derive(Deserialize)]
struct WireOutcome {
    job: Option<usize>,
    test: Option<usize>,
    verdict: Option<Verdict>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    cpu_ms: f64,
    #[serde(default)]
    wall_ms: f64,
    value: Option<String>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    prof: Option<WireProf>,
    /// Tests the worker gives back unrun (the protocol's `yield`).
    #[serde(default, rename = "yield")]
    handed_back: Option<Vec<usize>>,
}

/// Where one worker's time went during a run, in milliseconds: starting
/// its zygote, defining candidates, forking a process per pair, running
/// the tests, the harness's own work around them (compiling, reporting,
/// cleaning up), and waiting for jobs.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct WorkerProfile {
    /// Starting (and restarting) the zygote.
    pub spawn_ms: f64,
    /// Defining candidates.
    pub define_ms: f64,
    /// From asking for a test's process to its start.
    pub fork_ms: f64,
    /// Running tests, reports included.
    pub test_ms: f64,
    /// Everything else while a job ran: compiling, emitting verdicts,
    /// killing and reaping, cleaning the scratch directory.
    pub harness_ms: f64,
    /// Waiting for a job.
    pub idle_ms: f64,
    /// Pieces of jobs run (a job is one piece unless a time-out split it).
    pub jobs: usize,
    /// Pieces this worker handed back after a time-out, for any worker.
    pub handed_back: usize,
    /// Pairs judged.
    pub pairs: usize,
}

/// Where a run's time went: per worker, and in the caller's sink (the
/// store, progress) on the calling thread.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunProfile {
    /// One entry per worker thread.
    pub workers: Vec<WorkerProfile>,
    /// Time the sink took to take the verdicts, in milliseconds.
    pub sink_ms: f64,
    /// The part of `sink_ms` a store in front of the engine took to commit
    /// verdicts (zero when nothing stores them).
    pub store_ms: f64,
    /// The run's wall time, in milliseconds.
    pub wall_ms: f64,
}

impl Engine {
    /// Checks which isolation layers work here (starting one worker of
    /// `toolchain` to prove it) and warns once about missing ones.
    pub fn new(
        config: EngineConfig,
        toolchain: Arc<dyn Toolchain>,
    ) -> Result<Engine, SandboxError> {
        let seccomp = seccomp_program().map_err(SandboxError::Seccomp)?;
        let scratch = tempfile::Builder::new()
            .prefix("codejury-")
            .tempdir()
            .map_err(|source| SandboxError::Scratch {
                path: std::env::temp_dir(),
                source,
            })?;
        let mut layers = config.layers.unwrap_or_else(IsolationReport::detect);
        let mut ctx = WorkerContext {
            launch: toolchain.launch(),
            toolchain,
            layers,
            seccomp,
            tmpfs_bytes: config.tmpfs_bytes,
        };
        let probe_dir = scratch.path().join("probe");
        let limits = Limits::default();
        let probe = Worker::spawn(
            &ctx,
            &probe_name(&scratch),
            &probe_dir,
            limits.memory_bytes,
            limits.nproc,
        );
        if let Err(first) = probe {
            if !(layers.namespaces || layers.cgroups) {
                return Err(first);
            }
            tracing::debug!(
                "full isolation failed ({first}); trying without namespaces and cgroups"
            );
            layers.namespaces = false;
            layers.cgroups = false;
            ctx.layers = layers;
            Worker::spawn(
                &ctx,
                &probe_name(&scratch),
                &probe_dir,
                limits.memory_bytes,
                limits.nproc,
            )?;
        }
        let missing = layers.missing(ctx.toolchain.memory().fallback);
        if !missing.is_empty() {
            WARN_ONCE.call_once(|| {
                tracing::warn!(
                    "the sandbox runs without {}; run as root on Linux 5.13+ for full isolation",
                    missing.join(", ")
                );
            });
        }
        let ctx = Arc::new(ctx);
        Ok(Engine {
            config,
            spawner: Spawner::start(ctx.clone())?,
            ctx,
            scratch,
            next_worker: AtomicUsize::new(0),
            idle: Mutex::new(Vec::new()),
            busy: Mutex::new(0),
            freed: Condvar::new(),
        })
    }

    /// The isolation layers in use.
    pub fn isolation(&self) -> IsolationReport {
        self.ctx.layers
    }

    /// The toolchain the workers run.
    pub fn toolchain(&self) -> &dyn Toolchain {
        self.ctx.toolchain.as_ref()
    }

    /// The private directory under which every worker's scratch space lives
    /// (and which every sandboxed process carries in its environment).
    pub fn scratch_dir(&self) -> &std::path::Path {
        self.scratch.path()
    }

    /// The configured mode.
    pub fn mode(&self) -> Mode {
        self.config.mode
    }

    /// The most workers that run at once, across every caller.
    pub fn workers(&self) -> usize {
        self.config.workers.max(1)
    }

    /// Waits for a free worker slot.
    fn slot(&self) -> Slot<'_> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= self.workers() {
            busy = self.freed.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += 1;
        Slot(self)
    }

    /// Runs every job, pushing each pair's outcome into `sink` as it
    /// completes (in no particular order across jobs). The sink answers
    /// `Ok(false)` to stop: jobs not yet started are then skipped, and their
    /// pairs get no outcome. A sink error stops the run the same way and is
    /// returned; so is an engine error (a worker that cannot be started).
    /// After the last outcome of a run no error stopped, the sink's
    /// `finish` is called.
    ///
    /// Every pair of every started job gets exactly one outcome: if a worker
    /// dies or hangs, its unfinished pairs are reported as
    /// [`Verdict::SandboxError`], the worker is restarted, and the run goes on.
    pub fn run<S>(&self, jobs: Vec<Job>, sink: &mut S) -> Result<(), S::Error>
    where
        S: VerdictSink,
        S::Error: From<SandboxError>,
    {
        self.run_inner(jobs, sink, None)
    }

    /// [`Engine::run`], also saying where the time went.
    pub fn run_profiled<S>(&self, jobs: Vec<Job>, sink: &mut S) -> Result<RunProfile, S::Error>
    where
        S: VerdictSink,
        S::Error: From<SandboxError>,
    {
        let started = std::time::Instant::now();
        let profile = std::sync::Mutex::new(RunProfile::default());
        self.run_inner(jobs, sink, Some(&profile))?;
        let mut p = profile.into_inner().unwrap_or_else(|e| e.into_inner());
        p.wall_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(p)
    }

    fn run_inner<S>(
        &self,
        jobs: Vec<Job>,
        sink: &mut S,
        profile: Option<&std::sync::Mutex<RunProfile>>,
    ) -> Result<(), S::Error>
    where
        S: VerdictSink,
        S::Error: From<SandboxError>,
    {
        let queue = PieceQueue::new(jobs.iter().map(|j| j.tests.len()));
        let jobs = Arc::new(jobs);
        let stop = AtomicBool::new(false);
        let (out_tx, out_rx) = unbounded::<Result<PairOutcome, SandboxError>>();
        let workers = self.config.workers.max(1).min(jobs.len().max(1));
        let mut first_error: Option<S::Error> = None;
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let out_tx = out_tx.clone();
                let jobs = jobs.clone();
                let queue = &queue;
                scope.spawn(move || self.worker_loop(&jobs, queue, &out_tx, profile));
            }
            drop(out_tx);
            let mut sink_time = Duration::ZERO;
            for item in out_rx {
                match item {
                    Ok(outcome) => {
                        if stop.load(Ordering::Relaxed) {
                            continue;
                        }
                        let t = std::time::Instant::now();
                        let taken = sink.verdict(outcome);
                        sink_time += t.elapsed();
                        match taken {
                            Ok(true) => {}
                            Ok(false) => {
                                stop.store(true, Ordering::Relaxed);
                                queue.stop();
                            }
                            Err(e) => {
                                stop.store(true, Ordering::Relaxed);
                                queue.stop();
                                first_error.get_or_insert(e);
                            }
                        }
                    }
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        queue.stop();
                        first_error.get_or_insert(S::Error::from(e));
                    }
                }
            }
            if let Some(p) = profile {
                let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
                p.sink_ms += sink_time.as_secs_f64() * 1e3;
            }
        });
        match first_error {
            Some(e) => Err(e),
            None => sink.finish(),
        }
    }

    fn worker_loop(
        &self,
        jobs: &[Job],
        queue: &PieceQueue,
        out: &crossbeam_channel::Sender<Result<PairOutcome, SandboxError>>,
        profile: Option<&std::sync::Mutex<RunProfile>>,
    ) {
        let _slot = self.slot();
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (id, mut worker) = match pooled {
            Some((id, wk)) => (id, Some(wk)),
            None => (self.next_worker.fetch_add(1, Ordering::Relaxed), None),
        };
        let name = format!("{}-w{id}", probe_name(&self.scratch));
        let dir = self.scratch.path().join(format!("w{id}"));
        let mut prof = WorkerProfile::default();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        loop {
            let t_wait = std::time::Instant::now();
            let Some(piece) = queue.take() else { break };
            prof.idle_ms += ms(t_wait.elapsed());
            let job = &jobs[piece.job];
            if worker.is_none() {
                let t_spawn = std::time::Instant::now();
                match self
                    .spawner
                    .spawn(&name, &dir, job.limits.memory_bytes, job.limits.nproc)
                {
                    Ok(wk) => worker = Some(wk),
                    Err(e) => {
                        let _ = out.send(Err(e));
                        queue.finish(piece.job, Vec::new());
                        break;
                    }
                }
                prof.spawn_ms += ms(t_spawn.elapsed());
            }
            let Some(wk) = worker.as_mut() else { break };
            wk.set_memory(job.limits.memory_bytes);
            let t_job = std::time::Instant::now();
            let before = prof;
            let (healthy, handed_back) = self.run_piece(wk, &piece, job, out, &mut prof);
            let inside = (prof.define_ms - before.define_ms)
                + (prof.fork_ms - before.fork_ms)
                + (prof.test_ms - before.test_ms);
            prof.harness_ms += (ms(t_job.elapsed()) - inside).max(0.0);
            prof.jobs += 1;
            prof.pairs += piece.tests.len() - handed_back.len();
            if !handed_back.is_empty() {
                prof.handed_back += 1;
            }
            queue.finish(piece.job, handed_back);
            if !healthy {
                worker = None; // dropped: killed; restarted for the next piece
            }
        }
        if let Some(wk) = worker {
            // Healthy and warm: the next run (of any caller) starts on it.
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((id, wk));
        }
        if let Some(p) = profile {
            p.lock()
                .unwrap_or_else(|e| e.into_inner())
                .workers
                .push(prof);
        }
    }

    /// Runs one piece of a job on a worker: whether the worker is still
    /// healthy (else it must be replaced), and the tests it handed back.
    fn run_piece(
        &self,
        wk: &mut Worker,
        piece: &Piece,
        job: &Job,
        out: &crossbeam_channel::Sender<Result<PairOutcome, SandboxError>>,
        prof: &mut WorkerProfile,
    ) -> (bool, Vec<usize>) {
        let index = piece.job;
        let outcome = |test: usize, verdict: Verdict, message: String| PairOutcome {
            job: index,
            test,
            verdict,
            cpu_ms: 0.0,
            wall_ms: 0.0,
            message,
            value: None,
            cached: false,
        };
        let no_cgroup = !self.ctx.layers.cgroups;
        let rlimit_as = match self.ctx.toolchain.memory().fallback {
            MemoryFallback::AddressSpace { headroom_bytes } if no_cgroup => {
                Some(job.limits.memory_bytes.saturating_add(headroom_bytes))
            }
            _ => None,
        };
        if let Err(failure) = self.ctx.toolchain.build(job) {
            for &t in &piece.tests {
                let _ = out.send(Ok(outcome(
                    t,
                    Verdict::Error,
                    format!("the candidate does not build: {failure}"),
                )));
            }
            return (true, Vec::new());
        }
        let wire = WireJob {
            job: index,
            code: &job.candidate,
            entry_point: job.entry_point.as_deref(),
            prelude: job.prelude.as_deref(),
            tests: piece.tests.iter().map(|&t| &job.tests[t]).collect(),
            mode: self.config.mode,
            limits: WireLimits {
                wall_ms: job.limits.wall_ms,
                cpu_ms: job.limits.cpu_ms,
                memory_bytes: job.limits.memory_bytes,
                fsize_bytes: job.limits.fsize_bytes,
                output_bytes: job.limits.output_bytes,
                rlimit_as_bytes: rlimit_as,
                rlimit_nproc: no_cgroup.then_some(4096),
            },
        };
        // Indexed like the piece's tests, as the worker numbers them.
        let mut seen = vec![false; piece.tests.len()];
        let fill = |seen: &[bool], why: &str| {
            for (k, done) in seen.iter().enumerate() {
                if !done {
                    let _ = out.send(Ok(outcome(
                        piece.tests[k],
                        Verdict::SandboxError,
                        why.to_string(),
                    )));
                }
            }
        };
        let line = match serde_json::to_string(&wire) {
            Ok(l) => l,
            Err(e) => {
                fill(&seen, &format!("cannot encode the job: {e}"));
                return (true, Vec::new());
            }
        };
        if let Err(e) = wk.send(&line) {
            fill(&seen, &format!("the sandbox worker died: {e}"));
            return (false, Vec::new());
        }
        let mut handed_back = Vec::new();
        let patience = Duration::from_millis(
            job.limits
                .wall_ms
                .saturating_add(self.ctx.toolchain.build_allowance_ms()),
        ) + WATCHDOG_SLACK;
        loop {
            let line = match wk.recv(patience) {
                Ok(l) => l,
                Err(RecvTimeoutError::Timeout) => {
                    fill(
                        &seen,
                        "the sandbox worker stopped answering and was restarted",
                    );
                    return (false, Vec::new());
                }
                Err(RecvTimeoutError::Disconnected) => {
                    fill(&seen, "the sandbox worker died and was restarted");
                    return (false, Vec::new());
                }
            };
            let msg: WireOutcome = match serde_json::from_str(&line) {
                Ok(m) => m,
                Err(e) => {
                    fill(
                        &seen,
                        &format!("the sandbox worker sent a garbled line ({e})"),
                    );
                    return (false, Vec::new());
                }
            };
            if msg.job != Some(index) {
                fill(&seen, "the sandbox worker answered for another job");
                return (false, Vec::new());
            }
            if msg.done {
                if seen.iter().any(|s| !s) {
                    fill(&seen, "the sandbox worker skipped this pair");
                }
                return (true, handed_back);
            }
            if let Some(given) = msg.handed_back {
                if given.iter().any(|&k| k >= seen.len() || seen[k]) {
                    fill(&seen, "the sandbox worker handed back a test it had judged");
                    return (false, Vec::new());
                }
                for k in given {
                    seen[k] = true;
                    handed_back.push(piece.tests[k]);
                }
                continue;
            }
            let (Some(k), Some(verdict)) = (msg.test, msg.verdict) else {
                fill(&seen, "the sandbox worker sent an incomplete verdict");
                return (false, Vec::new());
            };
            if k >= seen.len() || seen[k] {
                fill(&seen, "the sandbox worker sent a verdict twice");
                return (false, Vec::new());
            }
            seen[k] = true;
            if let Some(p) = msg.prof {
                prof.define_ms += p.define;
                prof.fork_ms += p.fork;
                prof.test_ms += p.test;
            }
            let test = piece.tests[k];
            if msg.wall_ms > 1000.0 {
                tracing::debug!(job = index, test, wall_ms = msg.wall_ms, verdict = %verdict, "slow pair");
            }
            let _ = out.send(Ok(PairOutcome {
                job: index,
                test,
                verdict,
                cpu_ms: msg.cpu_ms,
                wall_ms: msg.wall_ms,
                message: msg.message,
                value: msg.value,
                cached: false,
            }));
        }
    }
}

fn probe_name(scratch: &tempfile::TempDir) -> String {
    let base = scratch
        .path()
        .file_name()
        .map(|s| s.to_string_lossy().into_owned());
    base.unwrap_or_else(|| format!("codejury-{}", std::process::id()))
}
