//! The embedded model as a [`Generator`]: load a GGUF, render prompts with
//! its chat template, prefill each prompt once and draw every sample of it
//! from the cached prefix.

use crate::gguf::Gguf;
use crate::model::Model;
use crate::sample::Sampler;
use crate::template::ChatTemplate;
use crate::tokenizer::Tokenizer;
use codejury_llm::{Completion, GenError, GenFuture, Generator, Prompt, Request, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Prompt tokens run through the network at once while prefilling.
const PREFILL_BATCH: usize = 64;

/// How to run the embedded model.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// The GGUF file.
    pub model: PathBuf,
    /// CPU threads for the matrix products. One is the safe choice while
    /// anything else runs: on a 2-core machine, two threads next to a busy
    /// core wait on each other.
    pub threads: usize,
    /// A name for cache keys; the file's checksum, so another file under
    /// the same path does not reuse this one's samples.
    pub identity: String,
}

/// A GGUF model in-process. Cheap to clone (the weights are shared);
/// generation runs on the caller's runtime's blocking pool, since decoding
/// holds a core for seconds.
#[derive(Clone)]
pub struct EmbeddedGenerator {
    inner: Arc<Inner>,
}

struct Inner {
    model: Model,
    tokenizer: Tokenizer,
    template: Option<ChatTemplate>,
    pool: Option<rayon::ThreadPool>,
    config: EmbeddedConfig,
}

fn model_error(path: &Path, e: impl std::fmt::Display) -> GenError {
    GenError::Model(format!("{}: {e}", path.display()))
}

impl EmbeddedGenerator {
    /// Loads the model file.
    pub fn load(config: EmbeddedConfig) -> Result<EmbeddedGenerator, GenError> {
        let path = config.model.clone();
        let gguf = Gguf::open(&path).map_err(|e| model_error(&path, error_chain(&e)))?;
        let tokenizer = Tokenizer::from_gguf(&gguf).map_err(|e| model_error(&path, e))?;
        let template = ChatTemplate::from_gguf(&gguf).map_err(|e| model_error(&path, e))?;
        let model = Model::load(gguf).map_err(|e| model_error(&path, e))?;
        let pool = if config.threads > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(config.threads)
                    .build()
                    .map_err(|e| {
                        GenError::Model(format!("cannot start {} threads: {e}", config.threads))
                    })?,
            )
        } else {
            None
        };
        Ok(EmbeddedGenerator {
            inner: Arc::new(Inner {
                model,
                tokenizer,
                template,
                pool,
                config,
            }),
        })
    }

    /// Whether the GGUF carries a chat template (chat prompts work).
    pub fn is_chat(&self) -> bool {
        self.inner.template.is_some()
    }

    /// The file this model was loaded from.
    pub fn path(&self) -> &Path {
        &self.inner.config.model
    }

    /// The prompt as text: chat messages rendered with the chat template
    /// stored in the GGUF, ending with the assistant's opening.
    pub fn render(&self, prompt: &Prompt) -> Result<String, GenError> {
        self.inner.render(prompt)
    }

    /// The token ids of `text` as the model reads it (special tokens
    /// written in the text included).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>, GenError> {
        self.inner.tokenizer.encode(text).map_err(GenError::Model)
    }

    /// Runs one request on the calling thread (for synchronous callers:
    /// benchmarks, tests).
    pub fn generate_blocking(&self, request: &Request) -> Result<Response, GenError> {
        self.inner.run(request)
    }

    /// The model's final hidden state (after the output norm) at the last
    /// token of the prompt: what the paper's difficulty probe reads.
    pub fn hidden_state(&self, prompt: &Prompt) -> Result<Vec<f32>, GenError> {
        self.inner.hidden_state(prompt)
    }

    /// Whether the matrix products use the CPU's SIMD instructions.
    pub fn simd(&self) -> bool {
        self.inner.model.kernels_simd()
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

impl Inner {
    fn render(&self, prompt: &Prompt) -> Result<String, GenError> {
        match prompt {
            Prompt::Text(t) => Ok(t.clone()),
            Prompt::Chat(messages) => {
                let template = self.template.as_ref().ok_or_else(|| {
                    GenError::Model(format!(
                        "{} has no chat template; use a chat model or a text prompt",
                        self.config.model.display()
                    ))
                })?;
                template
                    .render(messages, &self.tokenizer.bos_text, &self.tokenizer.eos_text)
                    .map_err(GenError::Model)
            }
        }
    }

    fn tokens(&self, prompt: &Prompt) -> Result<Vec<u32>, GenError> {
        let text = self.render(prompt)?;
        let tokens = self.tokenizer.encode(&text).map_err(GenError::Model)?;
        if tokens.is_empty() {
            return Err(GenError::Model("the prompt is empty".into()));
        }
        let n_ctx = self.model.config.n_ctx_train;
        if tokens.len() + 1 >= n_ctx {
            return Err(GenError::Model(format!(
                "the prompt has {} tokens; the model's context is {n_ctx}",
                tokens.len()
            )));
        }
        Ok(tokens)
    }

    fn prefill(
        &self,
        tokens: &[u32],
        cache: &mut crate::model::Cache,
    ) -> Result<Vec<f32>, GenError> {
        let mut hidden = Vec::new();
        for chunk in tokens.chunks(PREFILL_BATCH) {
            hidden = self
                .model
                .forward(chunk, cache, self.pool.as_ref())
                .map_err(GenError::Model)?;
        }
        Ok(hidden)
    }

    /// Runs `f` on the model's threads: called from inside its pool, every
    /// matrix product splits across them without waking the pool from
    /// outside each time (the calling thread works too).
    fn on_pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    fn run(&self, req: &Request) -> Result<Response, GenError> {
        self.on_pool(|| self.run_here(req))
    }

    /// One request: the prompt but its last token is prefilled once; each
    /// sample restarts from that prefix with its own seed (`seed + index`).
    fn run_here(&self, req: &Request) -> Result<Response, GenError> {
        let started = Instant::now();
        let tokens = self.tokens(&req.prompt)?;
        let max_new = req.sampling.max_tokens as usize;
        let n_ctx = (tokens.len() + max_new + 8).min(self.model.config.n_ctx_train);
        let mut cache = self.model.cache(n_ctx);
        let last = tokens.len() - 1;
        self.prefill(&tokens[..last], &mut cache)?;
        let mut out = Response {
            prompt_tokens: tokens.len() as u64,
            calls: 1,
            ..Response::default()
        };
        for k in 0..req.n {
            cache.len = last;
            let seed = req
                .sampling
                .seed
                .unwrap_or(0)
                .wrapping_add((req.start + k) as u64);
            let mut sampler = Sampler::new(req.sampling.temperature, req.sampling.top_p, seed);
            let mut next = tokens[last];
            let mut bytes: Vec<u8> = Vec::new();
            let mut finish = "length";
            let mut generated = 0u64;
            while generated < max_new as u64 && cache.len + 1 < n_ctx {
                let hidden = self
                    .model
                    .forward(&[next], &mut cache, self.pool.as_ref())
                    .map_err(GenError::Model)?;
                let logits = self.model.logits(&hidden, self.pool.as_ref());
                next = sampler.pick(&logits);
                generated += 1;
                if self.tokenizer.is_end(next) {
                    finish = "stop";
                    break;
                }
                bytes.extend_from_slice(self.tokenizer.piece(next));
                if let Some(cut) = stop_at(&bytes, &req.sampling.stop) {
                    bytes.truncate(cut);
                    finish = "stop";
                    break;
                }
            }
            out.completion_tokens += generated;
            out.completions.push(Completion {
                text: String::from_utf8_lossy(&bytes).into_owned(),
                finish_reason: Some(finish.into()),
            });
        }
        out.latency = started.elapsed();
        Ok(out)
    }

    fn hidden_state(&self, prompt: &Prompt) -> Result<Vec<f32>, GenError> {
        let tokens = self.tokens(prompt)?;
        let mut cache = self.model.cache(tokens.len());
        self.on_pool(|| self.prefill(&tokens, &mut cache))
    }
}

/// Where the text should end if it contains a stop sequence.
fn stop_at(bytes: &[u8], stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| bytes.windows(s.len()).position(|w| w == s.as_bytes()))
        .min()
}

impl Generator for EmbeddedGenerator {
    fn identity(&self) -> String {
        format!("embedded:{}", self.inner.config.identity)
    }

    fn parameters(&self) -> Option<u64> {
        Some(self.inner.model.parameters())
    }

    fn generate(&self, request: Request) -> GenFuture<'_> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || inner.run(&request))
                .await
                .map_err(|e| GenError::Model(format!("the decoding thread failed: {e}")))?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_sequences_cut_at_the_earliest() {
        let stops = vec!["\ndef".to_string(), "\n#".to_string()];
        assert_eq!(stop_at(b"    return 1\n# x\ndef f", &stops), Some(12));
        assert_eq!(stop_at(b"    return 1", &stops), None);
        assert_eq!(stop_at(b"abc", &[String::new()]), None);
    }
}
