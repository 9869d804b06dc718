//! Flag groups several commands share, and how each maps onto the
//! pipeline's typed settings.

use codejury_bench::Benchmark;
use codejury_core::Lang;
use codejury_core::Rule;
use codejury_pipeline::config::{BackendSettings, BenchSpec, EngineSettings, LimitSettings};
use codejury_sandbox::Mode;
use std::path::PathBuf;

/// Flags that set up the execution engine.
#[derive(clap::Args, Debug, Clone)]
pub struct EngineArgs {
    /// Parallel sandbox workers [default: number of cores].
    #[arg(short = 'j', long)]
    pub workers: Option<usize>,
    /// faithful: a fresh process per (solution, test) pair, as the paper's
    /// harness; fast: one process per solution runs its tests in turn.
    #[arg(long, default_value = "faithful")]
    pub mode: Mode,
    /// Python interpreter to run code with [default: $CODEJURY_PYTHON or python3].
    #[arg(long)]
    pub python: Option<PathBuf>,
}

impl EngineArgs {
    /// The settings these flags describe, for programs in `language` (the
    /// benchmark's).
    pub fn settings_for(&self, language: Lang) -> EngineSettings {
        EngineSettings {
            language,
            ..self.settings()
        }
    }

    /// The settings these flags describe, for Python programs.
    pub fn settings(&self) -> EngineSettings {
        EngineSettings {
            workers: self.workers,
            mode: self.mode,
            python: self.python.clone(),
            language: Default::default(),
        }
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

/// Per-pair limits as flags.
#[derive(clap::Args, Debug, Clone)]
pub struct LimitArgs {
    /// Time limit per (solution, test) pair, in milliseconds of CPU time
    /// (the paper's 1 s; CPU time, so a verdict does not depend on load).
    #[arg(long, default_value_t = 1000)]
    pub timeout_ms: u64,
    /// Wall-clock backstop per pair for code that blocks, in milliseconds
    /// [default: 3 × --timeout-ms, at least 1 s more].
    #[arg(long)]
    pub wall_ms: Option<u64>,
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
    /// The settings these flags describe.
    pub fn settings(&self) -> LimitSettings {
        LimitSettings {
            timeout_ms: self.timeout_ms,
            wall_ms: self.wall_ms,
            memory_mb: self.memory_mb,
            output_kb: self.output_kb,
            nproc: self.nproc,
        }
    }
}

/// Which benchmark, and optionally a local copy of its file.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// humaneval, humaneval-plus, mbpp-plus, mbxp-<lang> or humaneval-<lang>
    /// (lang: javascript, typescript, cpp, java, go, php, ruby, perl; MBXP
    /// only for cpp).
    #[arg(long, value_parser = parse_bench)]
    pub bench: Benchmark,
    /// A local copy of the benchmark file [default: $CODEJURY_DATA_DIR, else
    /// the cache, else fetched from its public source].
    #[arg(long)]
    pub data: Option<PathBuf>,
}

impl BenchArgs {
    /// The benchmark these flags name.
    pub fn spec(&self) -> BenchSpec {
        BenchSpec {
            bench: self.bench,
            data: self.data.clone(),
        }
    }
}

/// Parses a benchmark name for clap.
pub fn parse_bench(s: &str) -> Result<Benchmark, String> {
    s.parse::<Benchmark>().map_err(|e| e.to_string())
}

/// Parses a rule name for clap.
pub fn parse_rule(s: &str) -> Result<Rule, String> {
    s.parse::<Rule>().map_err(|e| e.to_string())
}

/// Which model writes candidates and which writes tests, and how to reach them.
#[derive(clap::Args, Debug, Clone)]
pub struct BackendArgs {
    /// The model that writes candidates: `embedded` (SmolLM2-135M, fetched
    /// on first use), `embedded:FILE.gguf`, `openai:MODEL@URL[,URL...]`
    /// (chat API), `openai-completions:MODEL@URL[,URL...]` (base models),
    /// or `replay:FILE.jsonl`.
    #[arg(long, default_value = "embedded")]
    pub policy: String,
    /// The model that writes unit tests; same forms as --policy.
    #[arg(long, default_value = "embedded")]
    pub tester: String,
    /// Environment variable holding the API key for `openai:` backends.
    #[arg(long, default_value = "OPENAI_API_KEY")]
    pub api_key_env: String,
    /// HTTP calls in flight at once, per backend.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Attempts per HTTP call (429, 5xx, timeouts and broken bodies are retried).
    #[arg(long, default_value_t = 6)]
    pub max_attempts: u32,
    /// Seconds allowed for one HTTP call.
    #[arg(long, default_value_t = 600)]
    pub request_timeout: u64,
    /// Parameters of the HTTP policy model, e.g. `7B`, for FLOP estimates.
    #[arg(long, value_parser = codejury_pipeline::backend::parse_count)]
    pub policy_params: Option<u64>,
    /// Parameters of the HTTP tester model, e.g. `8B`.
    #[arg(long, value_parser = codejury_pipeline::backend::parse_count)]
    pub tester_params: Option<u64>,
    /// CPU threads for the embedded model.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

impl BackendArgs {
    /// The settings these flags describe.
    pub fn settings(&self) -> BackendSettings {
        BackendSettings {
            policy: self.policy.clone(),
            tester: self.tester.clone(),
            api_key_env: self.api_key_env.clone(),
            concurrency: self.concurrency.max(1),
            max_attempts: self.max_attempts.max(1),
            request_timeout: self.request_timeout.max(1),
            policy_params: self.policy_params,
            tester_params: self.tester_params,
            threads: self.threads,
        }
    }
}
