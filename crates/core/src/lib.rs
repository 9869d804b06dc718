//! Domain types of codejury, free of I/O.
//!
//! Everything that flows between the stages of the pipeline is defined here —
//! problems, unit tests and their formats, and the verdict of one
//! (candidate, test) execution — so that the loaders, the sandbox, the store
//! and the selection rules agree on one vocabulary without depending on each
//! other.

pub mod allocate;
pub mod extract;
pub mod metrics;
pub mod problem;
pub mod select;
pub mod testcase;
pub mod verdict;

pub use problem::Problem;
pub use select::{PassMatrix, Rule};
pub use testcase::{TestCase, TestFormat};
pub use verdict::Verdict;
