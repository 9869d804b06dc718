//! The toolchain seam through the real engine: a toolchain's build step
//! decides for every pair of its job, and cache keys name no path.

use codejury_core::{TestCase, Verdict};
use codejury_python::formats::ASSERT;
use codejury_python::PythonToolchain;
use codejury_sandbox::{
    sinks, BuildFailure, Engine, EngineConfig, Job, Launch, Limits, MemoryPolicy, Toolchain,
};
use std::sync::Arc;

/// Python, except that a candidate mentioning `NOBUILD` does not build —
/// what a compiled language's toolchain says of a candidate that does not
/// compile.
#[derive(Debug)]
struct Picky(PythonToolchain);

impl Toolchain for Picky {
    fn language(&self) -> &str {
        "python"
    }
    fn fingerprint(&self) -> &str {
        self.0.fingerprint()
    }
    fn launch(&self) -> Launch {
        self.0.launch()
    }
    fn memory(&self) -> MemoryPolicy {
        self.0.memory()
    }
    fn build(&self, job: &Job) -> Result<(), BuildFailure> {
        if job.candidate.contains("NOBUILD") {
            Err(BuildFailure("line 1: NOBUILD is not a type".into()))
        } else {
            Ok(())
        }
    }
}

fn job(candidate: &str) -> Job {
    Job {
        candidate: candidate.into(),
        entry_point: Some("f".into()),
        prelude: None,
        tests: vec![
            TestCase::new(ASSERT, "assert f() == 1"),
            TestCase::new(ASSERT, "assert f() != 2"),
        ],
        limits: Limits::default(),
    }
}

#[test]
fn a_failed_build_is_an_error_for_every_pair_of_its_job_only() {
    let python = PythonToolchain::resolve().unwrap();
    let engine = Engine::new(
        EngineConfig {
            workers: 1,
            ..EngineConfig::default()
        },
        Arc::new(Picky(python)),
    )
    .unwrap();
    assert_eq!(engine.toolchain().language(), "python");
    let mut out = sinks::Collect::<codejury_sandbox::SandboxError>::new(2);
    engine
        .run(
            vec![
                job("def f():\n    return 1  # NOBUILD\n"),
                job("def f():\n    return 1\n"),
            ],
            &mut out,
        )
        .unwrap();
    for o in &out.by_job[0] {
        assert_eq!(o.verdict, Verdict::Error);
        assert!(
            o.message.contains("does not build: line 1"),
            "{}",
            o.message
        );
    }
    for o in &out.by_job[1] {
        assert_eq!(o.verdict, Verdict::Pass, "{}", o.message);
    }
}
