//! Python exceptions for the pipeline's errors: one class per kind a
//! caller would handle differently, each carrying the hint as data.

use codejury_pipeline::{Error, Hint};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{create_exception, PyErr};

create_exception!(
    _native,
    CodejuryError,
    PyException,
    "Base of every codejury error; `hint` says what to do about it, when there is something to do."
);
create_exception!(
    _native,
    ConfigError,
    CodejuryError,
    "An argument is out of range, malformed, or contradicts another."
);
create_exception!(
    _native,
    SandboxError,
    CodejuryError,
    "The sandbox itself failed: nothing was judged. Never a candidate's fault, so never a zero reward."
);
create_exception!(
    _native,
    BenchError,
    CodejuryError,
    "A benchmark could not be loaded or fetched, or names no such task."
);
create_exception!(
    _native,
    StoreError,
    CodejuryError,
    "The run store (SQLite) failed."
);

/// Converts a pipeline error to the Python exception of its kind, with its
/// hint in the `hint` attribute (`None` when there is none).
pub(crate) fn to_py(e: Error) -> PyErr {
    if matches!(e, Error::Cancelled) {
        return pyo3::exceptions::PyKeyboardInterrupt::new_err("cancelled");
    }
    let hint = e.hint();
    let message = chain(&e);
    let err = match &e {
        Error::Config(_) => ConfigError::new_err(message),
        Error::Bench(_) => BenchError::new_err(message),
        Error::Store(_) => StoreError::new_err(message),
        Error::Sandbox(_)
        | Error::Python(_)
        | Error::Toolchain(_)
        | Error::Language(_)
        | Error::Lost(_) => SandboxError::new_err(message),
        _ => CodejuryError::new_err(message),
    };
    Python::attach(|py| {
        // Setting an attribute on a fresh exception instance cannot fail
        // short of memory exhaustion; the error stays useful without it.
        let _ = err.value(py).setattr("hint", hint);
    });
    err
}

/// The error and its causes, joined as the command line prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

/// A `ConfigError` for a malformed argument.
pub(crate) fn bad_argument(message: impl Into<String>) -> PyErr {
    ConfigError::new_err(message.into())
}
