//! Reading JSON Lines (optionally gzipped) with errors that name file, line
//! and field.

use crate::BenchError;
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One parsed line: its number and its object, with typed accessors whose
/// errors carry the file, line and field.
#[derive(Debug)]
pub struct Record<'p> {
    path: &'p Path,
    /// 1-based line number.
    pub line: usize,
    /// The object.
    pub obj: Map<String, Value>,
    /// The line's text (with non-finite numbers rewritten).
    raw: &'p str,
}

impl Record<'_> {
    /// The file this record was read from.
    pub fn path(&self) -> &Path {
        self.path
    }

    /// An error at this record.
    pub fn error(&self, message: impl Into<String>) -> BenchError {
        BenchError::Parse {
            path: self.path.to_path_buf(),
            line: self.line,
            message: message.into(),
        }
    }

    /// A required string field.
    pub fn str(&self, field: &str) -> Result<String, BenchError> {
        match self.obj.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.error(format!(
                "field `{field}` must be a string, found {}",
                kind(other)
            ))),
            None => Err(self.error(format!("missing field `{field}`"))),
        }
    }

    /// An optional string field (absent or null is `None`).
    pub fn opt_str(&self, field: &str) -> Result<Option<String>, BenchError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str(field).map(Some),
        }
    }

    /// A string field that may also be given as an integer (task ids).
    pub fn id(&self, field: &str) -> Result<String, BenchError> {
        match self.obj.get(field) {
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => self.str(field),
        }
    }

    /// A required number field.
    pub fn f64(&self, field: &str) -> Result<f64, BenchError> {
        match self.obj.get(field) {
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| self.error(format!("field `{field}` is out of range"))),
            Some(other) => Err(self.error(format!(
                "field `{field}` must be a number, found {}",
                kind(other)
            ))),
            None => Err(self.error(format!("missing field `{field}`"))),
        }
    }

    /// A required field's JSON text exactly as written in the file, so
    /// integers too large for 64 bits reach Python unchanged.
    pub fn raw(&self, field: &str) -> Result<String, BenchError> {
        let fields: std::collections::HashMap<String, &serde_json::value::RawValue> =
            serde_json::from_str(self.raw)
                .map_err(|e| self.error(format!("not valid JSON: {e}")))?;
        fields
            .get(field)
            .map(|v| v.get().to_string())
            .ok_or_else(|| self.error(format!("missing field `{field}`")))
    }

    /// A required field of any JSON type.
    pub fn value(&self, field: &str) -> Result<&Value, BenchError> {
        self.obj
            .get(field)
            .ok_or_else(|| self.error(format!("missing field `{field}`")))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Opens a file, transparently decompressing `.gz`.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, BenchError> {
    let io = |source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Reads every non-blank line of a JSONL file as an object and hands it to
/// `each`. Bare `NaN`/`Infinity` tokens (Python's json writes them) are
/// accepted and become `{"$cj_float": "nan"}`-style objects, which the
/// Python side turns back into floats.
pub fn for_each<F>(path: &Path, mut each: F) -> Result<(), BenchError>
where
    F: FnMut(Record<'_>) -> Result<(), BenchError>,
{
    let reader = open(path)?;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| BenchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let text = replace_nonfinite(&line);
        let value: Value = serde_json::from_str(&text).map_err(|e| BenchError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            message: format!("not valid JSON: {e}"),
        })?;
        let Value::Object(obj) = value else {
            return Err(BenchError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                message: "expected a JSON object".into(),
            });
        };
        each(Record {
            path,
            line: i + 1,
            obj,
            raw: &text,
        })?;
    }
    Ok(())
}

/// Reads a whole JSON file (not lines), for the MBPP sanitized format.
pub fn read_json(path: &Path) -> Result<Value, BenchError> {
    let mut text = String::new();
    open(path)?
        .read_to_string(&mut text)
        .map_err(|source| BenchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    serde_json::from_str(&replace_nonfinite(&text)).map_err(|e| BenchError::Parse {
        path: PathBuf::from(path),
        line: e.line(),
        message: format!("not valid JSON: {e}"),
    })
}

/// Rewrites bare `NaN`, `Infinity` and `-Infinity` outside strings.
fn replace_nonfinite(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains("NaN") && !line.contains("Infinity") {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 32);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let token = [("-Infinity", "-inf"), ("Infinity", "inf"), ("NaN", "nan")]
            .into_iter()
            .find(|(t, _)| rest.starts_with(t));
        if let Some((t, name)) = token {
            out.push_str(&format!("{{\"$cj_float\":\"{name}\"}}"));
            rest = &rest[t.len()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonfinite_tokens_outside_strings_are_rewritten() {
        let s = r#"{"a": [NaN, -Infinity, 1.5], "b": "NaN \" Infinity"}"#;
        let v: Value = serde_json::from_str(&replace_nonfinite(s)).unwrap();
        assert_eq!(v["a"][0]["$cj_float"], "nan");
        assert_eq!(v["a"][1]["$cj_float"], "-inf");
        assert_eq!(v["b"], "NaN \" Infinity");
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(
            &p,
            "{\"task_id\": \"a\"}\n\n{\"task_id\": 3, \"prompt\": 1}\n",
        )
        .unwrap();
        let mut seen = Vec::new();
        let err = for_each(&p, |r| {
            seen.push(r.id("task_id")?);
            r.str("prompt").map(|_| ())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("x.jsonl:1: missing field `prompt`"), "{err}");
        let err = for_each(&p, |r| {
            if r.line == 3 {
                r.str("prompt").map(|_| ())
            } else {
                Ok(())
            }
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("x.jsonl:3: field `prompt` must be a string, found a number"),
            "{err}"
        );
        std::fs::write(&p, "{\"a\": 1}\nnot json\n").unwrap();
        let err = for_each(&p, |_| Ok(())).unwrap_err().to_string();
        assert!(err.contains("x.jsonl:2: not valid JSON"), "{err}");
    }
}
