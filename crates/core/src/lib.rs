//! The domain of codejury, pure and free of I/O: what flows between the
//! stages of the pipeline, and the arithmetic done on it.
//!
//! - Values: [`Problem`]s, [`TestCase`]s and their [`TestFormat`]s, the
//!   [`Verdict`] of one (candidate, test) execution, [`prompt`]s, and the
//!   [`discard`] reasons of what a model wrote that could not be used.
//! - The vote: a [`PassMatrix`] per problem and the selection [`Rule`]s of
//!   CodeRM, CodeT and MBR-exec, exact to their sources ([`select`]).
//! - The numbers: vanilla, oracle, each rule's accuracy, bootstrap curves
//!   and test quality against ground truth ([`metrics`]).
//! - Spending a test budget: allocation strategies, the online allocator,
//!   the paper's difficulty probe and the text-agreement features
//!   ([`allocate`], [`probe`], [`agreement`]).
//! - The language seam: [`Language`] says what depends on the language a
//!   program is written in; nothing here knows any language.
//!
//! ```
//! use codejury_core::{PassMatrix, Rule};
//!
//! // Three candidates, two tests: rows 0 and 1 pass both and agree.
//! let m = PassMatrix::distinct(vec![
//!     vec![true, true],
//!     vec![true, true],
//!     vec![true, false],
//! ]);
//! assert_eq!(Rule::Coderm.select(&m), vec![0, 1]);
//! assert_eq!(Rule::Coderm.score(&m, &[true, false, false]), 0.5);
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod agreement;
pub mod allocate;
pub mod difficulty;
pub mod discard;
pub mod hint;
pub mod lang;
pub mod language;
pub mod metrics;
pub mod probe;
pub mod problem;
pub mod prompt;
pub mod select;
pub mod testcase;
pub mod verdict;

pub use hint::Hint;
pub use lang::Lang;
pub use language::{Language, LanguageError};
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
    pub(crate) fn matrix(rows: &[&str]) -> PassMatrix {
        PassMatrix::distinct(
            rows.iter()
                .map(|r| r.chars().map(|c| c == '1').collect())
                .collect(),
        )
    }

    /// A task from such rows and the rows' labels.
    pub(crate) fn task(rows: &[&str], labels: &[bool]) -> Task {
        let matrix = matrix(rows);
        Task {
            generations: vec![1; matrix.cols()],
            matrix,
            labels: labels.to_vec(),
        }
    }
}
