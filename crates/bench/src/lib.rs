//! Benchmarks with ground truth: HumanEval, HumanEval+, MBPP+ and plain JSONL.
//!
//! A [`Dataset`] is a list of [`BenchProblem`]s, each a
//! [`Problem`](codejury_core::Problem) plus the benchmark's own way of deciding
//! whether a program is correct ([`GroundTruth`]). Files are read from a
//! path the user gives, from `CODEJURY_DATA_DIR`, or from a checksum-verified
//! cache that is filled from the public source on first use ([`fetch`]).
//! [`label`](mod@label) runs programs through that ground truth in the sandbox.

#![warn(missing_docs, unreachable_pub)]

pub mod error;
pub mod fetch;
pub mod jsonl;
pub mod label;
pub mod load;
pub mod samples;

pub use error::BenchError;
pub use label::{expected_job, expected_outputs, label, label_job, Expected, Label, LabelRequest};
pub use load::{BenchProblem, Benchmark, Dataset, GroundTruth};
pub use samples::{read_samples, sample_from_record, Sample};
