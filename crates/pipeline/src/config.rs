//! Typed settings: what the command line's flags, a server's request body
//! or a Python caller's keyword arguments map onto. Every struct is
//! serde-serialisable with the defaults the command line documents, so a
//! run can be described in JSON and reproduced from it.

use crate::error::{config, Result};
use codejury_bench::{Benchmark, Dataset};
use codejury_core::prompt::TestStyle;
use codejury_core::{Lang, Rule};
use codejury_sandbox::{Limits, Mode};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How the sandbox runs pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Parallel sandbox workers (`None`: one per core).
    pub workers: Option<usize>,
    /// Faithful (a process per pair, as the paper's harness) or fast (one
    /// process per candidate runs its tests in turn).
    pub mode: Mode,
    /// The Python interpreter (`None`: `$CODEJURY_PYTHON`, else `python3`).
    pub python: Option<PathBuf>,
    /// The language programs are written in: the benchmark's (commands set
    /// it from `--bench`), Python by default.
    pub language: Lang,
}

/// Per-pair limits, in the units the command line uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Time limit per pair, in milliseconds of CPU time (the paper: 1 s;
    /// CPU time, so that a verdict does not depend on the machine's load).
    pub timeout_ms: u64,
    /// Wall-clock backstop per pair for code that blocks (`None`:
    /// [`Limits::wall_backstop`] of the time limit).
    pub wall_ms: Option<u64>,
    /// Memory per pair, in MiB.
    pub memory_mb: u64,
    /// Output (stdout + stderr) per pair, in KiB.
    pub output_kb: u64,
    /// Processes a worker may hold at once.
    pub nproc: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            timeout_ms: 1000,
            wall_ms: None,
            memory_mb: 1024,
            output_kb: 1024,
            nproc: 64,
        }
    }
}

impl LimitSettings {
    /// The sandbox's limits.
    pub fn limits(&self) -> Limits {
        Limits {
            wall_ms: self
                .wall_ms
                .unwrap_or_else(|| Limits::wall_backstop(self.timeout_ms)),
            cpu_ms: self.timeout_ms,
            memory_bytes: self.memory_mb << 20,
            nproc: self.nproc,
            fsize_bytes: Limits::default().fsize_bytes,
            output_bytes: self.output_kb << 10,
        }
    }
}

/// A benchmark, and optionally a local copy of its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchSpec {
    /// Which benchmark.
    pub bench: Benchmark,
    /// A local copy of its file (`None`: `$CODEJURY_DATA_DIR`, else the
    /// cache, else fetched from the public source).
    #[serde(default)]
    pub data: Option<PathBuf>,
}

impl BenchSpec {
    /// Loads the benchmark.
    pub fn load(&self) -> Result<Dataset> {
        Ok(Dataset::load(self.bench, self.data.as_deref())?)
    }
}

/// In a CodeT pool, what one test is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestUnit {
    /// Each extracted `assert` (CodeT's own unit).
    #[default]
    Assert,
    /// All asserts kept from one sample, passing iff all pass (the unit the
    /// CodeRM evaluation gives a raw test generation).
    Sample,
}

/// A pool of pre-generated candidates and tests, read from files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFiles {
    /// Candidates: JSONL of samples (`solution`/`completion`) or of CodeT
    /// pools (`samples`: raw completions per task).
    pub solutions: PathBuf,
    /// Tests: JSONL of tests (`test`), CodeRM generations (`generation` or
    /// `response`), or CodeT pools (`samples`: raw `assert` completions).
    pub tests: PathBuf,
    /// In CodeT pools, whether a test is one `assert` or one sample's.
    #[serde(default)]
    pub codet_test_unit: TestUnit,
}

/// `eval`: rerank a pool end to end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    /// The benchmark the pool answers.
    pub bench: BenchSpec,
    /// The pool's files.
    pub pool: PoolFiles,
    /// Limits per pair.
    #[serde(default)]
    pub limits: LimitSettings,
    /// The sandbox.
    #[serde(default)]
    pub engine: EngineSettings,
    /// The run store (`None`: `$CODEJURY_CACHE_DIR/store.sqlite`).
    #[serde(default)]
    pub store: Option<PathBuf>,
    /// Directory for the report.
    pub out: PathBuf,
    /// Bootstrap repeats per point of the scaling curves.
    #[serde(default = "default_repeats")]
    pub repeats: usize,
    /// Seed of the bootstrap.
    #[serde(default)]
    pub seed: u64,
}

fn default_repeats() -> usize {
    20
}

/// Which models write candidates and tests, and how to reach them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendSettings {
    /// The policy: `embedded`, `embedded:FILE.gguf`, `openai:MODEL@URL[,URL...]`,
    /// `openai-completions:MODEL@URL[,URL...]` or `replay:FILE.jsonl`.
    pub policy: String,
    /// The tester; same forms.
    pub tester: String,
    /// Environment variable holding the API key for `openai:` backends.
    pub api_key_env: String,
    /// HTTP calls in flight at once, per backend.
    pub concurrency: usize,
    /// Attempts per HTTP call.
    pub max_attempts: u32,
    /// Seconds allowed for one HTTP call.
    pub request_timeout: u64,
    /// Parameters of an HTTP policy model, for FLOPs.
    pub policy_params: Option<u64>,
    /// Parameters of an HTTP tester model.
    pub tester_params: Option<u64>,
    /// CPU threads of the embedded model.
    pub threads: usize,
}

impl Default for BackendSettings {
    fn default() -> Self {
        BackendSettings {
            policy: "embedded".into(),
            tester: "embedded".into(),
            api_key_env: "OPENAI_API_KEY".into(),
            concurrency: 16,
            max_attempts: 6,
            request_timeout: 600,
            policy_params: None,
            tester_params: None,
            threads: 1,
        }
    }
}

/// How models sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingSettings {
    /// Softmax temperature (the paper: 0.8).
    pub temperature: f64,
    /// Nucleus mass (the paper: 0.95).
    pub top_p: f64,
    /// Most new tokens per candidate.
    pub max_tokens: u32,
    /// Most new tokens per test generation.
    pub test_max_tokens: u32,
    /// Base seed: sample `k` of a prompt uses `seed + k`.
    pub seed: u64,
}

impl Default for SamplingSettings {
    fn default() -> Self {
        SamplingSettings {
            temperature: 0.8,
            top_p: 0.95,
            max_tokens: 512,
            test_max_tokens: 768,
            seed: 0,
        }
    }
}

/// `run`: the whole pipeline from models to a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The benchmark.
    pub bench: BenchSpec,
    /// The models.
    #[serde(default)]
    pub backends: BackendSettings,
    /// Candidates per problem.
    pub n: usize,
    /// Test generations per problem (with `test_budget`, the most one
    /// problem gets).
    pub m: usize,
    /// An average of this many test generations per problem, bought online.
    #[serde(default)]
    pub test_budget: Option<usize>,
    /// Problems that get one more generation per online round.
    #[serde(default = "default_round_size")]
    pub round_size: usize,
    /// Only the first this-many problems.
    #[serde(default)]
    pub limit: Option<usize>,
    /// The rule whose picks `problems.jsonl` names.
    #[serde(default = "default_rule")]
    pub rule: Rule,
    /// How tests are asked for.
    #[serde(default = "default_test_style")]
    pub test_style: TestStyle,
    /// Sampling.
    #[serde(default)]
    pub sampling: SamplingSettings,
    /// Directory for the report, plots, selections and per-problem costs.
    pub out: PathBuf,
    /// Bootstrap repeats per point of the scaling curves.
    #[serde(default = "default_repeats")]
    pub repeats: usize,
    /// Limits per pair.
    #[serde(default)]
    pub limits: LimitSettings,
    /// The sandbox.
    #[serde(default)]
    pub engine: EngineSettings,
    /// The run store.
    #[serde(default)]
    pub store: Option<PathBuf>,
}

fn default_round_size() -> usize {
    16
}

fn default_rule() -> Rule {
    Rule::Coderm
}

fn default_test_style() -> TestStyle {
    TestStyle::Coderm
}

impl RunConfig {
    /// Checks what no type can: counts that must be positive.
    pub fn validate(&self) -> Result<()> {
        if self.n == 0 || self.m == 0 {
            return Err(config("-n and -m must be at least 1"));
        }
        if self.test_budget == Some(0) {
            return Err(config("--test-budget must be at least 1"));
        }
        if self.round_size == 0 {
            return Err(config("--round-size must be at least 1"));
        }
        if self.limit == Some(0) {
            return Err(config("no problems selected (--limit 0)"));
        }
        Ok(())
    }
}

/// `scale`: accuracy against the test budget per allocation strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleConfig {
    /// The pool, as `eval` reads it (its `out`, `repeats` and `seed` are this
    /// command's).
    pub eval: EvalConfig,
    /// The rule the budget is spent for.
    #[serde(default = "default_rule")]
    pub rule: Rule,
    /// The model whose hidden states feed the probe: `embedded`,
    /// `embedded:FILE.gguf`, or `none`.
    #[serde(default = "default_probe_model")]
    pub probe_model: String,
    /// Folds of the predictors' cross-fitting.
    #[serde(default = "default_folds")]
    pub probe_folds: usize,
    /// CPU threads of the probe model.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// The tokenizer that counts the pool's tokens for the compute curves:
    /// `embedded`, `embedded:FILE.gguf`, or `none`.
    #[serde(default = "default_probe_model")]
    pub tokenizer: String,
    /// The policy's parameters (FLOPs = 2 × parameters × tokens).
    #[serde(default)]
    pub policy_params: Option<u64>,
    /// The tester's parameters.
    #[serde(default)]
    pub tester_params: Option<u64>,
    /// Folds over which the online allocator's horizon is tuned and scored
    /// held out (below 2: no cross-fitting).
    #[serde(default = "default_folds")]
    pub folds: usize,
}

fn default_probe_model() -> String {
    "embedded".into()
}

fn default_folds() -> usize {
    5
}

fn default_threads() -> usize {
    1
}

/// `exec`: the verdict of every solution against every test of its task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecConfig {
    /// JSONL of solutions (`solution` or `completion`).
    pub solutions: PathBuf,
    /// JSONL of tests (`test`, optionally `format`).
    pub tests: PathBuf,
    /// The format of every test (`None`: the line's `format`, else detected).
    #[serde(default)]
    pub test_format: Option<String>,
    /// A plain JSONL of problems, for completions and `check` tests.
    #[serde(default)]
    pub problems: Option<PathBuf>,
    /// A benchmark to take prompts and entry points from.
    #[serde(default)]
    pub bench: Option<BenchSpec>,
    /// Limits per pair.
    #[serde(default)]
    pub limits: LimitSettings,
    /// The sandbox.
    #[serde(default)]
    pub engine: EngineSettings,
    /// The run store.
    #[serde(default)]
    pub store: Option<PathBuf>,
}
