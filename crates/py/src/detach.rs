//! Work outside the GIL that Ctrl-C can still stop.
//!
//! A call runs on a helper thread while the calling thread, holding no
//! GIL, waits for it: other Python threads run meanwhile (two threads
//! judging at once share the engine's workers). Every 100 ms the waiting
//! thread takes the GIL just long enough to let Python look at pending
//! signals; a Ctrl-C cancels the work, which stops after the pairs in
//! flight (their verdicts are in the store), and the call raises
//! `KeyboardInterrupt`.

use crate::errors::to_py;
use codejury_pipeline::{CancellationToken, Error};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::time::Duration;

/// How often a waiting call looks at Python's pending signals.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// Runs `work` with the GIL released, cancelling it on Ctrl-C.
pub(crate) fn detached<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&CancellationToken) -> Result<T, Error> + Send,
{
    let token = CancellationToken::new();
    let (outcome, interrupt) = py.detach(|| {
        std::thread::scope(|s| {
            let waiter = std::thread::current();
            let token = &token;
            let handle = s.spawn(move || {
                let out = work(token);
                waiter.unpark();
                out
            });
            let mut interrupt = None;
            while !handle.is_finished() {
                std::thread::park_timeout(SIGNAL_POLL);
                if interrupt.is_none() && !handle.is_finished() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        token.cancel();
                        interrupt = Some(e);
                    }
                }
            }
            (handle.join(), interrupt)
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    match outcome {
        Ok(result) => result.map_err(to_py),
        Err(_) => Err(PyRuntimeError::new_err(
            "codejury's worker thread panicked; this is a bug, please report it",
        )),
    }
}
