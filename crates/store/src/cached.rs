//! A [`Runner`] that answers from the store and runs only what is missing.

use crate::{Key, Store, StoreError, StoredVerdict};
use codejury_core::{Hint, Verdict};
use codejury_sandbox::{Engine, Job, PairOutcome, RunProfile, Runner, SandboxError, VerdictSink};
use std::time::{Duration, Instant};

/// What can stop a cached run: the engine, or the store under it.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The sandbox failed as a whole.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Hint for CacheError {
    fn hint(&self) -> Option<String> {
        match self {
            CacheError::Sandbox(e) => e.hint(),
            CacheError::Store(e) => e.hint(),
        }
    }
}

/// Runs jobs through a [`Store`]: pairs with a stored verdict are answered
/// from it (`cached: true`); the rest run on the engine and each verdict is
/// committed the moment it arrives, before the caller's sink sees it. A
/// store failure stops the run and comes back as [`CacheError::Store`].
/// Sandbox errors are never stored, so they are retried next time.
///
/// `Sync`: one cached runner over one engine and one store can serve many
/// callers at once.
pub struct CachedRunner<'a> {
    engine: &'a Engine,
    store: &'a Store,
}

impl<'a> CachedRunner<'a> {
    /// A runner over `engine` and `store`.
    pub fn new(engine: &'a Engine, store: &'a Store) -> CachedRunner<'a> {
        CachedRunner { engine, store }
    }

    /// The key of test `t` of `job`: everything that can change its verdict
    /// — the toolchain's fingerprint (harness and runtime version), the
    /// execution mode, the program, prelude, entry point, the test (format,
    /// source, data) and the limits.
    pub fn pair_key(&self, job: &Job, t: usize) -> Key {
        let test = &job.tests[t];
        let limits = serde_json::to_string(&job.limits).unwrap_or_default();
        Key::of(&[
            b"pair-v2",
            self.engine.toolchain().fingerprint().as_bytes(),
            self.engine.mode().as_str().as_bytes(),
            job.candidate.as_bytes(),
            job.prelude.as_deref().unwrap_or("").as_bytes(),
            job.entry_point.as_deref().unwrap_or("").as_bytes(),
            test.format.as_str().as_bytes(),
            test.code.as_bytes(),
            test.data.as_deref().unwrap_or("").as_bytes(),
            limits.as_bytes(),
        ])
    }
}

impl CachedRunner<'_> {
    /// [`Runner::run_jobs`], also saying where the time went: the engine's
    /// profile of the pairs it ran, with the store's share of the sink time
    /// in [`RunProfile::store_ms`]. Pairs answered from the store are not
    /// in it.
    pub fn run_profiled<S>(&self, jobs: Vec<Job>, sink: &mut S) -> Result<RunProfile, S::Error>
    where
        S: VerdictSink,
        S::Error: From<CacheError>,
    {
        Ok(self.run_cached(jobs, sink, true)?.unwrap_or_default())
    }

    fn run_cached<S>(
        &self,
        jobs: Vec<Job>,
        sink: &mut S,
        profiled: bool,
    ) -> Result<Option<RunProfile>, S::Error>
    where
        S: VerdictSink,
        S::Error: From<CacheError>,
    {
        let mut todo = Vec::new();
        let mut back: Vec<(usize, Vec<usize>, Vec<Key>)> = Vec::new();
        for (j, job) in jobs.iter().enumerate() {
            let mut missing = Vec::new();
            let mut keys = Vec::new();
            for t in 0..job.tests.len() {
                let key = self.pair_key(job, t);
                match self.store.verdict(&key).map_err(CacheError::from)? {
                    Some(v) => {
                        let go_on = sink.verdict(PairOutcome {
                            job: j,
                            test: t,
                            verdict: v.verdict,
                            cpu_ms: v.cpu_ms,
                            wall_ms: v.wall_ms,
                            message: v.message,
                            value: v.value,
                            cached: true,
                        })?;
                        if !go_on {
                            return sink.finish().map(|()| None);
                        }
                    }
                    None => {
                        missing.push(t);
                        keys.push(key);
                    }
                }
            }
            if !missing.is_empty() {
                let mut reduced = job.clone();
                reduced.tests = missing.iter().map(|&t| job.tests[t].clone()).collect();
                todo.push(reduced);
                back.push((j, missing, keys));
            }
        }
        if todo.is_empty() {
            return sink.finish().map(|()| None);
        }
        let mut storing = Storing {
            store: self.store,
            back: &back,
            inner: sink,
            store_time: Duration::ZERO,
        };
        let ran = if profiled {
            self.engine.run_profiled(todo, &mut storing).map(Some)
        } else {
            self.engine.run(todo, &mut storing).map(|()| None)
        };
        match ran {
            Ok(mut profile) => {
                if let Some(p) = profile.as_mut() {
                    p.store_ms = storing.store_time.as_secs_f64() * 1e3;
                }
                Ok(profile)
            }
            Err(StoringError::Cache(e)) => Err(e.into()),
            Err(StoringError::Inner(e)) => Err(e),
        }
    }
}

impl Runner for CachedRunner<'_> {
    type Error = CacheError;

    fn run_jobs<S>(&self, jobs: Vec<Job>, sink: &mut S) -> Result<(), S::Error>
    where
        S: VerdictSink,
        S::Error: From<CacheError>,
    {
        self.run_cached(jobs, sink, false).map(|_| ())
    }
}

/// The sink the engine feeds: commits each verdict, then hands it on with
/// the caller's job and test numbers.
struct Storing<'a, S> {
    store: &'a Store,
    back: &'a [(usize, Vec<usize>, Vec<Key>)],
    inner: &'a mut S,
    store_time: Duration,
}

/// A failure of the store or the engine, or of the caller's sink.
enum StoringError<E> {
    Cache(CacheError),
    Inner(E),
}

impl<E> From<SandboxError> for StoringError<E> {
    fn from(e: SandboxError) -> Self {
        StoringError::Cache(CacheError::Sandbox(e))
    }
}

impl<S: VerdictSink> VerdictSink for Storing<'_, S> {
    type Error = StoringError<S::Error>;

    fn verdict(&mut self, o: PairOutcome) -> Result<bool, Self::Error> {
        let (j, tests, keys) = &self.back[o.job];
        if o.verdict != Verdict::SandboxError {
            let stored = StoredVerdict {
                verdict: o.verdict,
                cpu_ms: o.cpu_ms,
                wall_ms: o.wall_ms,
                message: o.message.clone(),
                value: o.value.clone(),
            };
            let t = Instant::now();
            let put = self.store.put_verdict(&keys[o.test], &stored);
            self.store_time += t.elapsed();
            put.map_err(|e| StoringError::Cache(CacheError::Store(e)))?;
        }
        self.inner
            .verdict(PairOutcome {
                job: *j,
                test: tests[o.test],
                ..o
            })
            .map_err(StoringError::Inner)
    }

    fn finish(&mut self) -> Result<(), Self::Error> {
        self.inner.finish().map_err(StoringError::Inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codejury_core::TestCase;
    use codejury_python::{formats, PythonToolchain};
    use codejury_sandbox::{sinks, EngineConfig, Limits};
    use std::sync::Arc;

    fn engine() -> Engine {
        let python = PythonToolchain::resolve().expect("python3");
        Engine::new(
            EngineConfig {
                workers: 1,
                ..EngineConfig::default()
            },
            Arc::new(python),
        )
        .expect("engine")
    }

    fn jobs(n: usize) -> Vec<Job> {
        (0..n)
            .map(|k| Job {
                candidate: format!("def f():\n    return {k}\n"),
                entry_point: Some("f".into()),
                prelude: None,
                tests: vec![
                    TestCase::new(formats::ASSERT, format!("assert f() == {k}")),
                    TestCase::new(formats::ASSERT, "assert f() == 0"),
                ],
                limits: Limits::default(),
            })
            .collect()
    }

    #[test]
    fn a_rerun_is_answered_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let engine = engine();
        let runner = CachedRunner::new(&engine, &store);
        let mut first = sinks::Collect::<CacheError>::new(3);
        runner.run_jobs(jobs(3), &mut first).unwrap();
        let mut again = sinks::Collect::<CacheError>::new(3);
        runner.run_jobs(jobs(3), &mut again).unwrap();
        for (a, b) in first.by_job.iter().zip(&again.by_job) {
            for (x, y) in a.iter().zip(b) {
                assert!(!x.cached && y.cached);
                assert_eq!((x.test, x.verdict), (y.test, y.verdict));
            }
        }
        assert_eq!(first.by_job[1][0].verdict, Verdict::Pass);
        assert_eq!(first.by_job[1][1].verdict, Verdict::Fail);
        // Job 0 holds the same test twice: one key.
        assert_eq!(store.len().unwrap(), 5);
    }

    /// A sink whose error type carries the runner's.
    #[derive(Debug)]
    struct Failed(CacheError);

    impl From<CacheError> for Failed {
        fn from(e: CacheError) -> Self {
            Failed(e)
        }
    }

    #[test]
    fn a_store_failure_mid_run_is_an_error_of_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let engine = engine();
        let runner = CachedRunner::new(&engine, &store);
        let mut seen = 0;
        // After the first verdict is committed, the store turns read-only:
        // the next commit fails inside the runner's own sink.
        let mut sink = sinks::from_fn(|_o: PairOutcome| {
            seen += 1;
            if seen == 1 {
                store
                    .conn()
                    .execute_batch("PRAGMA query_only = ON")
                    .unwrap();
            }
            Ok::<_, Failed>(true)
        });
        let err = runner.run_jobs(jobs(4), &mut sink).unwrap_err();
        assert!(matches!(err.0, CacheError::Store(_)), "{:?}", err.0);
        assert_eq!(seen, 1, "the run stops at the failed commit");
        assert_eq!(store.len().unwrap(), 1);
        assert!(err.0.hint().unwrap().contains("delete it"));
    }
}
