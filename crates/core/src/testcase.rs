//! Unit tests, in whatever language and format their language defines.
//!
//! The core knows that a test has a *format* (how the harness runs it) but
//! not which formats exist: each language names its own (Python's are
//! `unittest`, `assert` and `check`), so adding a language adds formats
//! without touching this crate.
//!
//! ```
//! use codejury_core::{TestCase, TestFormat};
//!
//! const ASSERT: TestFormat = TestFormat::new("assert");
//! let t = TestCase::new(ASSERT, "assert add(1, 2) == 3");
//! assert_eq!(t.format.as_str(), "assert");
//! ```

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The name of a way to run a test, as its language's harness knows it.
///
/// A name rather than an enum: the set of formats belongs to each language,
/// and the name is what crosses the wire to the harness and into cache keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TestFormat(Cow<'static, str>);

impl TestFormat {
    /// A format with a name known at compile time (what languages declare).
    pub const fn new(name: &'static str) -> TestFormat {
        TestFormat(Cow::Borrowed(name))
    }

    /// A whole test program run after the candidate, as MBXP's `test` is
    /// (the candidate's source, then the test's, as one program that exits
    /// 0 when every check held): the one format of every language that runs
    /// programs as processes.
    pub const PROGRAM: TestFormat = TestFormat::new("program");

    /// A format named at run time (read from a file); a language decides
    /// whether it knows it.
    pub fn named(name: impl Into<String>) -> TestFormat {
        TestFormat(Cow::Owned(name.into()))
    }

    /// The name, as the harness and the JSON files spell it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TestFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One unit test: its source, how to run it, and optional data the harness
/// hands to the test (ground-truth checkers carry large input lists this
/// way instead of compiling them as code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TestCase {
    /// How to run it.
    pub format: TestFormat,
    /// Source, in the language of the candidate it tests.
    pub code: String,
    /// Opaque data exposed to the test by the harness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl TestCase {
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
    fn formats_compare_by_name_whatever_their_origin() {
        const UNIT: TestFormat = TestFormat::new("unittest");
        assert_eq!(UNIT, TestFormat::named("unittest"));
        assert_eq!(serde_json::to_string(&UNIT).unwrap(), "\"unittest\"");
        let back: TestFormat = serde_json::from_str("\"check\"").unwrap();
        assert_eq!(back.as_str(), "check");
    }
}
