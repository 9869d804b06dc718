//! Errors that say what to do next.
//!
//! A hint is data, not part of an error's message: the command line prints
//! it after the error chain, an HTTP server puts it in a field of the error
//! body, and a Python binding attaches it to the exception — each from the
//! same value.

/// An error that may know what the user can do about it.
pub trait Hint {
    /// One sentence of advice, if there is any.
    fn hint(&self) -> Option<String>;
}
