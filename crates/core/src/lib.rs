//! Domain types of codejury, free of I/O.
//!
//! Everything that flows between the stages of the pipeline is defined here —
//! problems, unit tests and their formats, and the verdict of one
//! (candidate, test) execution — so that the loaders, the sandbox, the store
//! and the selection rules agree on one vocabulary without depending on each
//! other.

pub mod agreement;
pub mod allocate;
pub mod extract;
pub mod metrics;
pub mod probe;
pub mod problem;
pub mod select;
pub mod testcase;
pub mod verdict;

pub use problem::Problem;
pub use select::{PassMatrix, Rule};
pub use testcase::{TestCase, TestFormat};
pub use verdict::Verdict;

#[cfg(test)]
pub(crate) mod test_support {
    //! Builders for the unit tests' small matrices.

    use crate::metrics::Task;
    use crate::select::PassMatrix;

    /// A matrix from rows written as strings of `0`/`1`.
    pub fn matrix(rows: &[&str]) -> PassMatrix {
        PassMatrix::distinct(
            rows.iter()
                .map(|r| r.chars().map(|c| c == '1').collect())
                .collect(),
        )
    }

    /// A task from such rows and the rows' labels.
    pub fn task(rows: &[&str], labels: &[bool]) -> Task {
        let matrix = matrix(rows);
        Task {
            generations: vec![1; matrix.cols()],
            matrix,
            labels: labels.to_vec(),
        }
    }
}
