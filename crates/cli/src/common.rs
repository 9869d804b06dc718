//! Pieces every subcommand shares: engine flags, benchmark selection,
//! output in tables or JSON, and progress bars.

use anyhow::{Context, Result};
use codejury_bench::{Benchmark, Dataset};
use codejury_sandbox::{Engine, EngineConfig, Limits, Mode};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// How the summary is printed.
pub struct Output {
    /// One JSON object on stdout instead of a human table.
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON when `--json` is given, else runs `human`.
    pub fn summary(&self, value: &serde_json::Value, human: impl FnOnce()) {
        if self.json {
            println!("{value}");
        } else {
            human();
        }
    }
}

/// Flags that set up the execution engine.
#[derive(clap::Args, Debug, Clone)]
pub struct EngineArgs {
    /// Parallel sandbox workers [default: number of cores].
    #[arg(short = 'j', long)]
    pub workers: Option<usize>,
    /// faithful: a fresh process per (solution, test) pair, as the paper's
    /// harness; fast: one process per solution runs its tests in turn.
    #[arg(long, default_value = "faithful", value_parser = parse_mode)]
    pub mode: Mode,
    /// Python interpreter to run code with [default: $CODEJURY_PYTHON or python3].
    #[arg(long)]
    pub python: Option<PathBuf>,
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    match s {
        "faithful" => Ok(Mode::Faithful),
        "fast" => Ok(Mode::Fast),
        _ => Err(format!("unknown mode {s:?} (expected faithful or fast)")),
    }
}

impl EngineArgs {
    /// Starts the engine these flags describe.
    pub fn engine(&self) -> Result<Engine> {
        let mut config = EngineConfig {
            mode: self.mode,
            ..EngineConfig::default()
        };
        if let Some(w) = self.workers {
            config.workers = w.max(1);
        }
        if let Some(p) = &self.python {
            config.python = Some(codejury_sandbox::python::resolve_named(
                &p.to_string_lossy(),
            )?);
        }
        Engine::new(config).context("cannot start the sandbox")
    }
}

/// Where results are kept between runs.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// The run store (SQLite): finished pairs are never run again, and a
    /// killed run resumes where it was [default: $CODEJURY_CACHE_DIR/store.sqlite].
    #[arg(long)]
    pub store: Option<PathBuf>,
}

impl StoreArgs {
    /// Opens the store.
    pub fn open(&self) -> Result<codejury_store::Store> {
        let path = self
            .store
            .clone()
            .unwrap_or_else(|| codejury_bench::fetch::cache_dir().join("store.sqlite"));
        Ok(codejury_store::Store::open(&path)?)
    }
}

/// Per-pair limits as flags.
#[derive(clap::Args, Debug, Clone)]
pub struct LimitArgs {
    /// Wall-clock limit per (solution, test) pair, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub timeout_ms: u64,
    /// CPU limit per pair, in milliseconds [default: the wall limit].
    #[arg(long)]
    pub cpu_ms: Option<u64>,
    /// Memory limit per pair, in MiB.
    #[arg(long, default_value_t = 1024)]
    pub memory_mb: u64,
    /// Output (stdout + stderr) limit per pair, in KiB.
    #[arg(long, default_value_t = 1024)]
    pub output_kb: u64,
    /// Processes a worker may hold at once.
    #[arg(long, default_value_t = 64)]
    pub nproc: u64,
}

impl LimitArgs {
    /// The limits.
    pub fn limits(&self) -> Limits {
        Limits {
            wall_ms: self.timeout_ms,
            cpu_ms: self.cpu_ms.unwrap_or(self.timeout_ms),
            memory_bytes: self.memory_mb << 20,
            nproc: self.nproc,
            fsize_bytes: Limits::default().fsize_bytes,
            output_bytes: self.output_kb << 10,
        }
    }
}

/// Which benchmark, and optionally a local copy of its file.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// humaneval, humaneval-plus or mbpp-plus.
    #[arg(long, value_parser = parse_bench)]
    pub bench: Benchmark,
    /// A local copy of the benchmark file [default: $CODEJURY_DATA_DIR, else
    /// the cache, else fetched from its public source].
    #[arg(long)]
    pub data: Option<PathBuf>,
}

/// Parses a benchmark name for clap.
pub fn parse_bench(s: &str) -> Result<Benchmark, String> {
    s.parse::<Benchmark>().map_err(|e| e.to_string())
}

impl BenchArgs {
    /// Loads the benchmark.
    pub fn load(&self) -> Result<Dataset> {
        Ok(Dataset::load(self.bench, self.data.as_deref())?)
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style =
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}
