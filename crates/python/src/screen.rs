//! Test pieces checked by CPython's own parser before they become tests.
//!
//! The parser is the one that will compile the test in the harness, so
//! what it accepts is exactly what can run. It runs in a child process,
//! all pieces in one call: a piece too deep or too large for it answers
//! `too-complex` (the script catches `RecursionError` and `MemoryError`),
//! and if the child dies anyway (a crash in C) or stops answering, the
//! batch is split until the culprit stands alone and is discarded — one
//! pathological generation never stops a run, or the run that resumes it.

use codejury_core::discard::Reject;
use codejury_core::LanguageError;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCREEN: &str = include_str!("screen.py");

/// The largest test piece sent to the parser or a harness, in bytes: far
/// beyond anything a model writes in one generation (a 768-token CodeRM
/// test is about 3 kB), small enough that no piece can swamp a worker.
pub const MAX_TEST_BYTES: usize = 1 << 20;

/// Time one batch of the parser may take before it is split.
const BATCH_TIMEOUT: Duration = Duration::from_secs(120);

/// What the parser is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Exactly one `assert` statement (CodeT's rule).
    Assert,
    /// Anything the parser can take apart (a test unit).
    Unit,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Assert => "assert",
            Mode::Unit => "unit",
        }
    }
}

/// Screens `pieces` with the interpreter `python`: one answer per piece.
pub fn screen(
    python: &Path,
    mode: Mode,
    pieces: &[String],
) -> Result<Vec<Result<(), Reject>>, LanguageError> {
    let mut out: Vec<Option<Result<(), Reject>>> = pieces
        .iter()
        .map(|p| (p.len() > MAX_TEST_BYTES).then_some(Err(Reject::TooLarge)))
        .collect();
    let todo: Vec<usize> = (0..pieces.len()).filter(|&i| out[i].is_none()).collect();
    screen_batch(python, mode, pieces, &todo, &mut out)?;
    Ok(out
        .into_iter()
        .map(|a| a.unwrap_or(Err(Reject::TooComplex)))
        .collect())
}

fn screen_batch(
    python: &Path,
    mode: Mode,
    pieces: &[String],
    batch: &[usize],
    out: &mut [Option<Result<(), Reject>>],
) -> Result<(), LanguageError> {
    if batch.is_empty() {
        return Ok(());
    }
    let snippets: Vec<&str> = batch.iter().map(|&i| pieces[i].as_str()).collect();
    match ask(python, mode, &snippets)? {
        Some(answers) => {
            for (&i, a) in batch.iter().zip(answers) {
                out[i] = Some(a);
            }
            Ok(())
        }
        None if batch.len() == 1 => {
            out[batch[0]] = Some(Err(Reject::TooComplex));
            Ok(())
        }
        None => {
            let (a, b) = batch.split_at(batch.len() / 2);
            screen_batch(python, mode, pieces, a, out)?;
            screen_batch(python, mode, pieces, b, out)
        }
    }
}

/// One run of the parser script: `Ok(None)` when the child died or timed
/// out (the batch holds something it cannot survive), `Err` when it could
/// not be started at all.
fn ask(
    python: &Path,
    mode: Mode,
    snippets: &[&str],
) -> Result<Option<Vec<Result<(), Reject>>>, LanguageError> {
    let cannot = |what: String| LanguageError {
        message: format!("cannot run Python's parser ({}): {what}", python.display()),
        hint: Some("point CODEJURY_PYTHON (or --python) at a working Python 3.8+".into()),
    };
    let input = serde_json::json!({"mode": mode.as_str(), "snippets": snippets}).to_string();
    let mut child = Command::new(python)
        .args(["-I", "-S", "-c", SCREEN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| cannot(e.to_string()))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| cannot("no stdin".into()))?;
    let writer = std::thread::spawn(move || {
        // A child that dies early closes the pipe: that is its answer.
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| cannot("no stdout".into()))?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > BATCH_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(cannot(e.to_string())),
        }
    };
    let _ = writer.join();
    let stdout = reader.join().unwrap_or_default();
    let Some(status) = status.filter(|s| s.success()) else {
        tracing::debug!(
            snippets = snippets.len(),
            "the parser died or timed out; splitting the batch"
        );
        return Ok(None);
    };
    let Ok(answers) = serde_json::from_slice::<Vec<String>>(&stdout) else {
        return Ok(None);
    };
    if answers.len() != snippets.len() {
        return Ok(None);
    }
    let _ = status;
    Ok(Some(
        answers
            .iter()
            .map(|a| match a.as_str() {
                "ok" => Ok(()),
                "malformed" => Err(Reject::Malformed),
                _ => Err(Reject::TooComplex),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PythonToolchain;

    #[test]
    fn pathological_pieces_are_answered_not_fatal() {
        let python = PythonToolchain::resolve().unwrap();
        let deep = format!("assert f(1{})", "+1".repeat(200_000));
        let negations = format!("assert f({}1)", "not ".repeat(100_000));
        let huge = format!("assert f({:?})", "x".repeat(MAX_TEST_BYTES));
        let pieces = vec![
            "assert f(1) == 2".to_string(),
            deep,
            "assert f(".to_string(),
            "x = 1".to_string(),
            negations,
            huge,
        ];
        let got = screen(python.python(), Mode::Assert, &pieces).unwrap();
        assert_eq!(
            got,
            vec![
                Ok(()),
                Err(Reject::TooComplex),
                Err(Reject::Malformed),
                Err(Reject::Malformed),
                Err(Reject::TooComplex),
                Err(Reject::TooLarge),
            ]
        );
        // A unit that does not compile is still a test; a deep one is not.
        let units = vec!["class T(:".to_string(), pieces[1].clone()];
        assert_eq!(
            screen(python.python(), Mode::Unit, &units).unwrap(),
            vec![Ok(()), Err(Reject::TooComplex)]
        );
    }
}
