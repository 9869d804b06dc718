//! A [`Runner`] that answers from the store and runs only what is missing.

use crate::{Key, Store, StoreError, StoredVerdict};
use codejury_core::Verdict;
use codejury_sandbox::{Engine, Job, PairOutcome, Runner, SandboxError};
use std::cell::{Cell, RefCell};

/// Runs jobs through a [`Store`]: pairs with a stored verdict are answered
/// from it (`cached: true`); the rest run on the engine and each verdict is
/// committed the moment it arrives. Sandbox errors are never stored, so they
/// are retried next time.
pub struct CachedRunner<'a> {
    engine: &'a Engine,
    store: &'a Store,
    executed: Cell<u64>,
    cached: Cell<u64>,
    error: RefCell<Option<StoreError>>,
}

impl<'a> CachedRunner<'a> {
    /// A runner over `engine` and `store`.
    pub fn new(engine: &'a Engine, store: &'a Store) -> CachedRunner<'a> {
        CachedRunner {
            engine,
            store,
            executed: Cell::new(0),
            cached: Cell::new(0),
            error: RefCell::new(None),
        }
    }

    /// Pairs run on the engine so far.
    pub fn executed(&self) -> u64 {
        self.executed.get()
    }

    /// Pairs answered from the store so far.
    pub fn cached(&self) -> u64 {
        self.cached.get()
    }

    /// The first store error, if any happened (the run stops at it).
    pub fn take_error(&self) -> Option<StoreError> {
        self.error.borrow_mut().take()
    }

    /// The key of test `t` of `job` under the engine's mode.
    pub fn pair_key(&self, job: &Job, t: usize) -> Key {
        let test = &job.tests[t];
        let limits = serde_json::to_string(&job.limits).unwrap_or_default();
        let mode = format!("{:?}", self.engine.mode());
        Key::of(&[
            b"pair-v1",
            codejury_sandbox::harness_source().as_bytes(),
            self.engine.python().as_os_str().as_encoded_bytes(),
            job.candidate.as_bytes(),
            job.prelude.as_deref().unwrap_or("").as_bytes(),
            job.entry_point.as_deref().unwrap_or("").as_bytes(),
            test.format.as_str().as_bytes(),
            test.code.as_bytes(),
            test.data.as_deref().unwrap_or("").as_bytes(),
            limits.as_bytes(),
            mode.as_bytes(),
        ])
    }
}

impl Runner for CachedRunner<'_> {
    fn run_jobs(
        &self,
        jobs: Vec<Job>,
        sink: &mut dyn FnMut(PairOutcome) -> bool,
    ) -> Result<(), SandboxError> {
        let mut todo = Vec::new();
        let mut back: Vec<(usize, Vec<usize>, Vec<Key>)> = Vec::new();
        for (j, job) in jobs.iter().enumerate() {
            let mut missing = Vec::new();
            let mut keys = Vec::new();
            for t in 0..job.tests.len() {
                let key = self.pair_key(job, t);
                match self.store.verdict(&key) {
                    Ok(Some(v)) => {
                        self.cached.set(self.cached.get() + 1);
                        let go_on = sink(PairOutcome {
                            job: j,
                            test: t,
                            verdict: v.verdict,
                            cpu_ms: v.cpu_ms,
                            wall_ms: v.wall_ms,
                            message: v.message,
                            value: None,
                            cached: true,
                        });
                        if !go_on {
                            return Ok(());
                        }
                    }
                    Ok(None) => {
                        missing.push(t);
                        keys.push(key);
                    }
                    Err(e) => {
                        *self.error.borrow_mut() = Some(e);
                        return Ok(());
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
        self.engine.run(todo, |o| {
            let (j, tests, keys) = &back[o.job];
            if o.verdict != Verdict::SandboxError {
                let stored = StoredVerdict {
                    verdict: o.verdict,
                    cpu_ms: o.cpu_ms,
                    wall_ms: o.wall_ms,
                    message: o.message.clone(),
                };
                if let Err(e) = self.store.put_verdict(&keys[o.test], &stored) {
                    *self.error.borrow_mut() = Some(e);
                    return false;
                }
            }
            self.executed.set(self.executed.get() + 1);
            sink(PairOutcome {
                job: *j,
                test: tests[o.test],
                ..o
            })
        })
    }
}
