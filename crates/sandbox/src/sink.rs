//! Where verdicts go: the engine *pushes* each pair's outcome into a
//! [`VerdictSink`] the moment it exists.
//!
//! Push rather than pull (the shape of ripgrep's `Sink`): the engine drives
//! the N×M matrix across its workers, and a caller that stores verdicts,
//! draws progress or prunes candidates only says what to do with one
//! outcome and whether to go on. A sink carries its own error type, so a
//! sink that fails — a store that cannot write — stops the run and its
//! error comes back out of [`Engine::run`](crate::Engine::run) through the
//! types, with nothing for the caller to remember to check.
//!
//! ```no_run
//! use codejury_sandbox::{sinks, Engine, PairOutcome, SandboxError};
//! # fn demo(engine: &Engine, jobs: Vec<codejury_sandbox::Job>) -> Result<(), SandboxError> {
//! let mut passed = 0;
//! engine.run(jobs, &mut sinks::from_fn(|o: PairOutcome| {
//!     passed += usize::from(o.verdict.passed());
//!     Ok::<_, SandboxError>(true)
//! }))?;
//! # Ok(()) }
//! ```

use crate::PairOutcome;

/// A receiver of verdicts.
pub trait VerdictSink {
    /// What can go wrong in this sink (and, through `From`, in the runner
    /// that feeds it).
    type Error;

    /// Takes one pair's outcome; `Ok(false)` stops the run (jobs not yet
    /// started are skipped), an error stops it and is returned.
    fn verdict(&mut self, outcome: PairOutcome) -> Result<bool, Self::Error>;

    /// Called once after the last outcome of a run that was not stopped by
    /// an error.
    fn finish(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl<S: VerdictSink + ?Sized> VerdictSink for &mut S {
    type Error = S::Error;

    fn verdict(&mut self, outcome: PairOutcome) -> Result<bool, Self::Error> {
        (**self).verdict(outcome)
    }

    fn finish(&mut self) -> Result<(), Self::Error> {
        (**self).finish()
    }
}

/// Ready-made sinks.
pub mod sinks {
    use super::VerdictSink;
    use crate::PairOutcome;

    /// A sink made of a closure (see [`from_fn`]).
    #[derive(Debug)]
    pub struct FromFn<F>(F);

    /// A sink that hands each outcome to `f`.
    pub fn from_fn<F, E>(f: F) -> FromFn<F>
    where
        F: FnMut(PairOutcome) -> Result<bool, E>,
    {
        FromFn(f)
    }

    impl<F, E> VerdictSink for FromFn<F>
    where
        F: FnMut(PairOutcome) -> Result<bool, E>,
    {
        type Error = E;

        fn verdict(&mut self, outcome: PairOutcome) -> Result<bool, E> {
            (self.0)(outcome)
        }
    }

    /// A sink that keeps every outcome, grouped by job and ordered by test;
    /// `E` is the error type of the runner that feeds it.
    #[derive(Debug)]
    pub struct Collect<E = crate::SandboxError> {
        /// `by_job[j]`: the outcomes of job `j`.
        pub by_job: Vec<Vec<PairOutcome>>,
        error: std::marker::PhantomData<fn() -> E>,
    }

    impl<E> Collect<E> {
        /// A collector for `jobs` jobs.
        pub fn new(jobs: usize) -> Collect<E> {
            Collect {
                by_job: vec![Vec::new(); jobs],
                error: std::marker::PhantomData,
            }
        }
    }

    impl<E> VerdictSink for Collect<E> {
        type Error = E;

        fn verdict(&mut self, outcome: PairOutcome) -> Result<bool, Self::Error> {
            if self.by_job.len() <= outcome.job {
                self.by_job.resize(outcome.job + 1, Vec::new());
            }
            self.by_job[outcome.job].push(outcome);
            Ok(true)
        }

        fn finish(&mut self) -> Result<(), Self::Error> {
            for v in &mut self.by_job {
                v.sort_by_key(|o| o.test);
            }
            Ok(())
        }
    }
}
