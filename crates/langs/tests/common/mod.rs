//! Helpers the process-language tests share.
#![allow(dead_code)]

use codejury_langs::ExecToolchain;
use codejury_sandbox::{sinks, Engine, EngineConfig, Job, PairOutcome};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// codejury's cache, where `.ci/run` puts the pinned npm packages and
/// C++'s precompiled header: `CODEJURY_CACHE_DIR`, else `~/.cache/codejury`.
pub fn user_cache() -> PathBuf {
    match std::env::var_os("CODEJURY_CACHE_DIR") {
        Some(d) => d.into(),
        None => Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/codejury"),
    }
}

/// The shared data directory: `CODEJURY_DATA_DIR`, else `../shared/data`
/// beside the checkout.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("CODEJURY_DATA_DIR") {
        Some(d) => d.into(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// Runs jobs through the engine: each job's outcomes, in test order.
pub fn run(engine: &Engine, jobs: Vec<Job>) -> Vec<Vec<PairOutcome>> {
    let mut out = sinks::Collect::<codejury_sandbox::SandboxError>::new(jobs.len());
    engine.run(jobs, &mut out).expect("engine run");
    out.by_job
        .into_iter()
        .map(|mut v| {
            v.sort_by_key(|o| o.test);
            v
        })
        .collect()
}

/// An engine with one worker (so a probe after a case lands on the same
/// worker) running `toolchain`.
pub fn one_worker(toolchain: ExecToolchain) -> Engine {
    Engine::new(
        EngineConfig {
            workers: 1,
            ..EngineConfig::default()
        },
        Arc::new(toolchain),
    )
    .expect("engine")
}
