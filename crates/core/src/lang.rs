//! Which programming language a benchmark, a candidate or a sandbox speaks,
//! by name: the key that picks a [`Language`](crate::Language) and a
//! toolchain. Python has its own crate; the others share one harness that
//! builds and runs each program as a process.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A programming language codejury can judge programs in.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// CPython: the default, the language of HumanEval and MBPP.
    #[default]
    Python,
    /// Node.js.
    JavaScript,
    /// TypeScript, compiled by `tsc` and run by Node.js.
    TypeScript,
    /// C++ with `g++`.
    Cpp,
    /// Java with a JDK's `javac` and `java`.
    Java,
    /// Go with the `go` command.
    Go,
    /// PHP's command-line interpreter.
    Php,
    /// Ruby.
    Ruby,
    /// Perl 5.
    Perl,
}

impl Lang {
    /// Every language, Python first.
    pub const ALL: [Lang; 9] = [
        Lang::Python,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Cpp,
        Lang::Java,
        Lang::Go,
        Lang::Php,
        Lang::Ruby,
        Lang::Perl,
    ];

    /// The name benchmarks and users spell (`javascript`, `cpp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Cpp => "cpp",
            Lang::Java => "java",
            Lang::Go => "go",
            Lang::Php => "php",
            Lang::Ruby => "ruby",
            Lang::Perl => "perl",
        }
    }

    /// The name people read (`C++`, `JavaScript`), for prompts and reports.
    pub fn display_name(self) -> &'static str {
        match self {
            Lang::Python => "Python",
            Lang::JavaScript => "JavaScript",
            Lang::TypeScript => "TypeScript",
            Lang::Cpp => "C++",
            Lang::Java => "Java",
            Lang::Go => "Go",
            Lang::Php => "PHP",
            Lang::Ruby => "Ruby",
            Lang::Perl => "Perl",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language name codejury does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown language {0:?} (expected one of python, javascript, typescript, cpp, java, go, php, ruby, perl)")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Lang, UnknownLang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLang(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_serialise_as_spelled() {
        for l in Lang::ALL {
            assert_eq!(l.as_str().parse::<Lang>().unwrap(), l);
            assert_eq!(
                serde_json::to_string(&l).unwrap(),
                format!("\"{}\"", l.as_str())
            );
        }
        assert!("kotlin".parse::<Lang>().is_err());
    }
}
