//! Time-outs through the real engine and harness: a candidate that times
//! out hands its unstarted tests back, they are judged by whichever worker
//! is free, and every pair still gets exactly one verdict, the right one.

use codejury_core::{TestCase, Verdict};
use codejury_python::formats::ASSERT;
use codejury_python::PythonToolchain;
use codejury_sandbox::{sinks, Engine, EngineConfig, Job, Limits, Mode, PairOutcome};
use std::sync::Arc;

/// A candidate whose `f(n)` loops forever on odd `n`, and a quick one.
fn jobs() -> Vec<Job> {
    let tests: Vec<TestCase> = (0..7)
        .map(|n| TestCase::new(ASSERT, format!("assert f({n}) == {n}")))
        .collect();
    let limits = Limits::default().with_time_ms(150);
    vec![
        Job {
            candidate: "def f(n):\n    while n % 2:\n        pass\n    return n\n".into(),
            entry_point: Some("f".into()),
            prelude: None,
            tests: tests.clone(),
            limits,
        },
        Job {
            candidate: "def f(n):\n    return n\n".into(),
            entry_point: Some("f".into()),
            prelude: None,
            tests,
            limits,
        },
    ]
}

fn run(mode: Mode) {
    let python = PythonToolchain::resolve().expect("python3");
    let engine = Engine::new(
        EngineConfig {
            workers: 2,
            mode,
            ..EngineConfig::default()
        },
        Arc::new(python),
    )
    .expect("engine");
    let mut got: Vec<PairOutcome> = Vec::new();
    let profile = engine
        .run_profiled(
            jobs(),
            &mut sinks::from_fn(|o| {
                got.push(o);
                Ok::<_, codejury_sandbox::SandboxError>(true)
            }),
        )
        .expect("run");
    got.sort_by_key(|o| (o.job, o.test));
    let seen: Vec<(usize, usize)> = got.iter().map(|o| (o.job, o.test)).collect();
    let every: Vec<(usize, usize)> = (0..2).flat_map(|j| (0..7).map(move |t| (j, t))).collect();
    assert_eq!(seen, every, "{mode:?}: one verdict per pair");
    for o in &got {
        let want = if o.job == 0 && o.test % 2 == 1 {
            Verdict::Timeout
        } else {
            Verdict::Pass
        };
        assert_eq!(
            o.verdict, want,
            "{mode:?}: job {} test {}: {}",
            o.job, o.test, o.message
        );
    }
    // Tests 1, 3 and 5 time out with tests after them: each hands the rest back.
    let handed: usize = profile.workers.iter().map(|w| w.handed_back).sum();
    assert!(handed >= 3, "{mode:?}: {handed} pieces handed back");
    let pairs: usize = profile.workers.iter().map(|w| w.pairs).sum();
    assert_eq!(pairs, 14, "{mode:?}: the profile counts each pair once");
}

#[test]
fn faithful_mode_hands_back_the_tests_after_a_timeout_and_judges_each_once() {
    run(Mode::Faithful);
}

#[test]
fn fast_mode_hands_back_the_tests_after_a_timeout_and_judges_each_once() {
    run(Mode::Fast);
}
