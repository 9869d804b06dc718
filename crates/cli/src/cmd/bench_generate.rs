//! `codejury bench generate`: the embedded model's tokens per second
//! against llama.cpp's own (llama-cpp-python) on the same GGUF file, the
//! same prompt and the same number of threads, greedy, in one run.

use crate::common::Output;
use anyhow::{bail, Context, Result};
use codejury_embedded::{EmbeddedConfig, EmbeddedGenerator};
use codejury_llm::{Generator, Message, Prompt, Request, Response, Sampling};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

const BENCH_LLAMA: &str = include_str!("../py/bench_llama.py");

/// Flags of `bench generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The GGUF file [default: the embedded SmolLM2-135M, fetched on first use].
    #[arg(long)]
    model: Option<PathBuf>,
    /// A Python with llama-cpp-python installed, for the baseline
    /// [default: $CODEJURY_LLAMA_PYTHON, else ~/.cache/codejury-llama-venv/bin/python].
    #[arg(long)]
    llama_python: Option<PathBuf>,
    /// CPU threads, for both engines.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Tokens to generate per repeat.
    #[arg(long, default_value_t = 128)]
    tokens: u32,
    /// Repeats per engine; the fastest counts.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
}

struct Timing {
    prompt_tokens: u64,
    completion_tokens: u64,
    seconds: f64,
}

impl Timing {
    fn rate(&self) -> f64 {
        self.completion_tokens as f64 / self.seconds.max(1e-9)
    }
}

/// Runs the benchmark.
pub fn generate(args: GenerateArgs, out: &Output) -> Result<ExitCode> {
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
    let cfg = json!({
        "model": model, "threads": args.threads, "n_ctx": 2048,
        "repeats": args.repeats, "tokens": args.tokens, "prompt": text,
    });
    let o = Command::new(&python)
        .args(["-c", BENCH_LLAMA])
        .arg(cfg.to_string())
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !o.status.success() {
        bail!(
            "the llama.cpp baseline failed ({}):\n{}",
            python.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let runs: Vec<serde_json::Value> =
        serde_json::from_slice(&o.stdout).context("the baseline printed no timings")?;
    let base = runs
        .iter()
        .map(|r| Timing {
            prompt_tokens: r["prompt_tokens"].as_u64().unwrap_or(0),
            completion_tokens: r["completion_tokens"].as_u64().unwrap_or(0),
            seconds: r["seconds"].as_f64().unwrap_or(f64::INFINITY),
        })
        .max_by(|a, b| a.rate().total_cmp(&b.rate()))
        .context("no baseline runs")?;
    let base_text = runs
        .first()
        .and_then(|r| r["text"].as_str())
        .unwrap_or_default()
        .to_string();

    let mut ours: Option<Timing> = None;
    let mut our_text = String::new();
    for _ in 0..args.repeats.max(1) {
        let mut resp: Option<Response> = None;
        g.generate(
            vec![Request {
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
            }],
            &mut |_, r| {
                resp = r.ok();
                true
            },
        )?;
        let r = resp.context("the embedded model failed")?;
        our_text = r
            .completions
            .first()
            .map(|c| c.text.clone())
            .unwrap_or_default();
        let t = Timing {
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            seconds: r.latency.as_secs_f64(),
        };
        if ours.as_ref().is_none_or(|o| t.rate() > o.rate()) {
            ours = Some(t);
        }
    }
    let ours = ours.context("no runs")?;
    let ratio = ours.rate() / base.rate().max(1e-9);
    let same = our_text == base_text;
    // Two llama.cpp builds of different versions round differently, so
    // greedy texts can part after a while; how long they agree is shown.
    let agree = our_text
        .chars()
        .zip(base_text.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let summary = json!({
        "model": model,
        "threads": args.threads,
        "embedded": {"prompt_tokens": ours.prompt_tokens, "completion_tokens": ours.completion_tokens, "seconds": ours.seconds, "tokens_per_second": ours.rate()},
        "llama_cpp_python": {"prompt_tokens": base.prompt_tokens, "completion_tokens": base.completion_tokens, "seconds": base.seconds, "tokens_per_second": base.rate()},
        "ratio": ratio,
        "same_text": same,
        "agreeing_prefix_chars": agree,
        "texts": {"embedded": our_text, "llama_cpp_python": base_text},
    });
    out.summary(&summary, || {
        println!(
            "model {} · {} thread(s) · greedy · best of {}",
            model.display(),
            args.threads,
            args.repeats
        );
        println!(
            "{:<26} {:>7} {:>9} {:>8} {:>9}",
            "engine", "prompt", "generated", "seconds", "tokens/s"
        );
        for (name, t) in [
            ("codejury embedded", &ours),
            ("llama.cpp (llama-cpp-python)", &base),
        ] {
            println!(
                "{name:<26} {:>7} {:>9} {:>8.2} {:>9.1}",
                t.prompt_tokens,
                t.completion_tokens,
                t.seconds,
                t.rate()
            );
        }
        println!(
            "ratio {ratio:.2}x; greedy texts identical: {same} (the first {agree} characters agree)"
        );
    });
    Ok(ExitCode::SUCCESS)
}
