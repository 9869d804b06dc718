//! `codejury._native`: the Rust engine behind the `codejury` Python
//! package. The typed API (`codejury.judge`, `codejury.select`, the RL
//! adapters, `codejury.ray`) is Python in `python/codejury/`; this module
//! is the thin layer that releases the GIL, honours Ctrl-C and maps errors
//! to exceptions.

mod calls;
mod detach;
mod errors;
mod runtime;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let base = py.get_type::<errors::CodejuryError>();
    // Every instance has a `hint`; errors raised with one override this.
    base.setattr("hint", py.None())?;
    m.add("CodejuryError", base)?;
    m.add("ConfigError", py.get_type::<errors::ConfigError>())?;
    m.add("SandboxError", py.get_type::<errors::SandboxError>())?;
    m.add("BenchError", py.get_type::<errors::BenchError>())?;
    m.add("StoreError", py.get_type::<errors::StoreError>())?;
    m.add_function(wrap_pyfunction!(calls::configure, m)?)?;
    m.add_function(wrap_pyfunction!(calls::started, m)?)?;
    m.add_function(wrap_pyfunction!(calls::isolation, m)?)?;
    m.add_function(wrap_pyfunction!(calls::judge, m)?)?;
    m.add_function(wrap_pyfunction!(calls::run_code, m)?)?;
    m.add_function(wrap_pyfunction!(calls::label, m)?)?;
    m.add_function(wrap_pyfunction!(calls::select, m)?)?;
    m.add_function(wrap_pyfunction!(calls::extract, m)?)?;
    Ok(())
}
