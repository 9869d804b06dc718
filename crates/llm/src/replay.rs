//! Replay: generations read from JSONL instead of a model, so published
//! samples can be reranked and a run reproduced without a server.
//!
//! Each line has a `task_id` and its text in one of the fields
//! `generation`, `response`, `completion`, `solution`, `test` or `text`, or
//! a `samples` array of texts (CodeT's pools). A task's texts form one
//! stream in file order; sample `k` of a request is text `start + k`.

use crate::generator::{Completion, GenError, GenFuture, Generator, Request, Response};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Fields holding one text, in the order they are looked for.
const TEXT_FIELDS: [&str; 6] = [
    "generation",
    "response",
    "completion",
    "solution",
    "test",
    "text",
];

/// Serves a JSONL file's generations.
pub struct ReplayGenerator {
    path: PathBuf,
    texts: HashMap<String, Vec<String>>,
}

impl ReplayGenerator {
    /// Reads the file; a bad line is an error naming the file, line and field.
    pub fn open(path: &Path) -> Result<ReplayGenerator, GenError> {
        let err = |line: usize, msg: String| {
            GenError::Replay(format!("{}:{line}: {msg}", path.display()))
        };
        let file = std::fs::File::open(path)
            .map_err(|e| GenError::Replay(format!("cannot open {}: {e}", path.display())))?;
        let mut texts: HashMap<String, Vec<String>> = HashMap::new();
        for (k, line) in std::io::BufReader::new(file).lines().enumerate() {
            let n = k + 1;
            let line = line.map_err(|e| err(n, e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(&line).map_err(|e| err(n, format!("not JSON: {e}")))?;
            let task = match v.get("task_id") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(x)) => x.to_string(),
                _ => return Err(err(n, "field `task_id`: missing or not a string".into())),
            };
            let stream = texts.entry(task).or_default();
            if let Some(samples) = v.get("samples") {
                let arr = samples
                    .as_array()
                    .ok_or_else(|| err(n, "field `samples`: not an array".into()))?;
                for (i, s) in arr.iter().enumerate() {
                    let s = s.as_str().ok_or_else(|| {
                        err(n, format!("field `samples`: item {i} is not a string"))
                    })?;
                    stream.push(s.to_string());
                }
                continue;
            }
            let field = TEXT_FIELDS
                .iter()
                .find(|f| v.get(**f).is_some())
                .ok_or_else(|| {
                    err(
                        n,
                        format!("no text field (one of {})", TEXT_FIELDS.join(", ")),
                    )
                })?;
            let text = v[*field]
                .as_str()
                .ok_or_else(|| err(n, format!("field `{field}`: not a string")))?;
            stream.push(text.to_string());
        }
        Ok(ReplayGenerator {
            path: path.to_path_buf(),
            texts,
        })
    }

    /// How many texts the file holds for a task.
    pub fn available(&self, task_id: &str) -> usize {
        self.texts.get(task_id).map_or(0, Vec::len)
    }
}

impl Generator for ReplayGenerator {
    fn identity(&self) -> String {
        format!("replay:{}", self.path.display())
    }

    fn parameters(&self) -> Option<u64> {
        None
    }

    /// Replay answers at once; many requests can be in flight.
    fn concurrency(&self) -> usize {
        64
    }

    fn generate(&self, req: Request) -> GenFuture<'_> {
        let stream = self.texts.get(&req.task_id).map_or(&[][..], Vec::as_slice);
        let end = (req.start + req.n).min(stream.len());
        let completions = stream
            .get(req.start..end)
            .unwrap_or_default()
            .iter()
            .map(|t| Completion {
                text: t.clone(),
                finish_reason: Some("replay".into()),
            })
            .collect();
        let response = Response {
            completions,
            calls: 0,
            ..Response::default()
        };
        Box::pin(std::future::ready(Ok(response)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::{Prompt, Sampling};
    use std::io::Write;

    fn request(id: usize, task: &str, start: usize, n: usize) -> Request {
        Request {
            id,
            task_id: task.into(),
            prompt: Prompt::Text(String::new()),
            n,
            start,
            sampling: Sampling::default(),
        }
    }

    #[test]
    fn streams_are_served_in_file_order_from_the_start_index() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, r#"{{"task_id": "A", "completion": "a0"}}"#).unwrap();
        writeln!(f, r#"{{"task_id": "B", "generation": "b0"}}"#).unwrap();
        writeln!(f, r#"{{"task_id": "A", "solution": "a1"}}"#).unwrap();
        writeln!(f, r#"{{"task_id": "A", "samples": ["a2", "a3"]}}"#).unwrap();
        let g = ReplayGenerator::open(f.path()).unwrap();
        assert_eq!(g.available("A"), 4);
        let texts = |r: Request| -> Vec<String> {
            let resp = futures_util::FutureExt::now_or_never(g.generate(r))
                .expect("replay answers at once")
                .unwrap();
            resp.completions.into_iter().map(|c| c.text).collect()
        };
        assert_eq!(texts(request(0, "A", 1, 2)), ["a1", "a2"]);
        assert_eq!(texts(request(1, "B", 0, 3)), ["b0"]);
        assert!(texts(request(2, "C", 0, 1)).is_empty());
    }

    #[test]
    fn a_bad_line_names_file_line_and_field() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, r#"{{"task_id": "A", "completion": "a0"}}"#).unwrap();
        writeln!(f, r#"{{"task_id": "A", "completion": 3}}"#).unwrap();
        let e = ReplayGenerator::open(f.path()).err().unwrap().to_string();
        assert!(e.contains(":2:") && e.contains("`completion`"), "{e}");
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, r#"{{"completion": "a0"}}"#).unwrap();
        let e = ReplayGenerator::open(f.path()).err().unwrap().to_string();
        assert!(e.contains(":1:") && e.contains("`task_id`"), "{e}");
    }
}
