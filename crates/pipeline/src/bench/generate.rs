//! `bench generate`: the embedded model's tokens per second against
//! llama.cpp's own (llama-cpp-python) on the same GGUF file, the same
//! prompt and the same number of threads, greedy, in one run.

use crate::error::{Error, Result};
use codejury_embedded::{EmbeddedConfig, EmbeddedGenerator};
use codejury_llm::{Message, Prompt, Request, Sampling};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::Command;

const BENCH_LLAMA: &str = include_str!("py/bench_llama.py");

/// Settings of `bench generate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateBenchConfig {
    /// The GGUF file (`None`: the embedded SmolLM2-135M, fetched on first use).
    #[serde(default)]
    pub model: Option<PathBuf>,
    /// A Python with llama-cpp-python installed, for the baseline (`None`:
    /// `$CODEJURY_LLAMA_PYTHON`, else `~/.cache/codejury-llama-venv/bin/python`).
    #[serde(default)]
    pub llama_python: Option<PathBuf>,
    /// CPU threads, for both engines.
    pub threads: usize,
    /// Tokens to generate per repeat.
    pub tokens: u32,
    /// Repeats per engine; the fastest counts.
    pub repeats: usize,
}

/// One engine's best run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timing {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Wall seconds.
    pub seconds: f64,
    /// Generated tokens per second.
    pub tokens_per_second: f64,
}

impl Timing {
    fn new(prompt_tokens: u64, completion_tokens: u64, seconds: f64) -> Timing {
        Timing {
            prompt_tokens,
            completion_tokens,
            seconds,
            tokens_per_second: completion_tokens as f64 / seconds.max(1e-9),
        }
    }

    fn rate(&self) -> f64 {
        self.tokens_per_second
    }
}

/// Both engines' greedy texts.
#[derive(Debug, Clone, Serialize)]
pub struct Texts {
    /// Ours.
    pub embedded: String,
    /// llama.cpp's.
    pub llama_cpp_python: String,
}

/// The result of `bench generate`.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateBench {
    /// The GGUF file.
    pub model: PathBuf,
    /// CPU threads.
    pub threads: usize,
    /// Repeats per engine.
    pub repeats: usize,
    /// The embedded engine's best run.
    pub embedded: Timing,
    /// llama.cpp's best run.
    pub llama_cpp_python: Timing,
    /// Ours over theirs, in tokens per second.
    pub ratio: f64,
    /// Whether the greedy texts are identical.
    pub same_text: bool,
    /// How many leading characters agree.
    pub agreeing_prefix_chars: usize,
    /// The texts.
    pub texts: Texts,
}

fn baseline(message: String) -> Error {
    Error::Baseline {
        what: "the llama.cpp baseline".into(),
        message,
    }
}

/// Runs `bench generate`.
pub fn generate(args: &GenerateBenchConfig) -> Result<GenerateBench> {
    let model = match &args.model {
        Some(m) => m.clone(),
        None => codejury_bench::fetch::locate(&codejury_bench::fetch::SMOLLM2)?,
    };
    let python = args
        .llama_python
        .clone()
        .or_else(|| std::env::var_os("CODEJURY_LLAMA_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/codejury-llama-venv/bin/python")
        });
    let g = EmbeddedGenerator::load(EmbeddedConfig {
        model: model.clone(),
        threads: args.threads,
        identity: "bench".into(),
    })?;
    let chat = Prompt::Chat(vec![Message::user(
        "Write a Python function `is_palindrome(s)` that checks whether a string reads the \
         same backwards, ignoring case and non-letters. Explain it step by step.",
    )]);
    let text = g.render(&chat)?;

    // The baseline first, in its own process.
    let cfg = serde_json::json!({
        "model": model, "threads": args.threads, "n_ctx": 2048,
        "repeats": args.repeats, "tokens": args.tokens, "prompt": text,
    });
    let o = Command::new(&python)
        .args(["-c", BENCH_LLAMA])
        .arg(cfg.to_string())
        .output()
        .map_err(|e| baseline(format!("cannot run {}: {e}", python.display())))?;
    if !o.status.success() {
        return Err(baseline(format!(
            "{} failed:\n{}",
            python.display(),
            String::from_utf8_lossy(&o.stderr)
        )));
    }
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout)
        .map_err(|e| baseline(format!("it printed no timings: {e}")))?;
    let base = runs
        .iter()
        .map(|r| {
            Timing::new(
                r["prompt_tokens"].as_u64().unwrap_or(0),
                r["completion_tokens"].as_u64().unwrap_or(0),
                r["seconds"].as_f64().unwrap_or(f64::INFINITY),
            )
        })
        .max_by(|a, b| a.rate().total_cmp(&b.rate()))
        .ok_or_else(|| baseline("no runs".into()))?;
    let base_text = runs
        .first()
        .and_then(|r| r["text"].as_str())
        .unwrap_or_default()
        .to_string();

    let mut ours: Option<Timing> = None;
    let mut our_text = String::new();
    for _ in 0..args.repeats.max(1) {
        let r = g.generate_blocking(&Request {
            id: 0,
            task_id: "bench".into(),
            prompt: Prompt::Text(text.clone()),
            n: 1,
            start: 0,
            sampling: Sampling {
                temperature: 0.0,
                max_tokens: args.tokens,
                ..Sampling::default()
            },
        })?;
        our_text = r
            .completions
            .first()
            .map(|c| c.text.clone())
            .unwrap_or_default();
        let t = Timing::new(
            r.prompt_tokens,
            r.completion_tokens,
            r.latency.as_secs_f64(),
        );
        if ours.as_ref().is_none_or(|o| t.rate() > o.rate()) {
            ours = Some(t);
        }
    }
    let ours = ours.ok_or_else(|| baseline("no runs of the embedded model".into()))?;
    let ratio = ours.rate() / base.rate().max(1e-9);
    let same = our_text == base_text;
    // Two builds of different versions round differently, so greedy texts
    // can part after a while; how long they agree is shown.
    let agree = our_text
        .chars()
        .zip(base_text.chars())
        .take_while(|(a, b)| a == b)
        .count();
    Ok(GenerateBench {
        model,
        threads: args.threads,
        repeats: args.repeats,
        embedded: ours,
        llama_cpp_python: base,
        ratio,
        same_text: same,
        agreeing_prefix_chars: agree,
        texts: Texts {
            embedded: our_text,
            llama_cpp_python: base_text,
        },
    })
}
