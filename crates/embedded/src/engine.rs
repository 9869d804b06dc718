//! Loading a GGUF model and sampling from it.

use codejury_llm::{Completion, GenError, GenFuture, Generator, Prompt, Request, Response};
use llama_cpp_2::context::params::{LlamaContextParams, LlamaPoolingType};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// llama.cpp's backend may be initialised once per process.
fn backend() -> Result<&'static LlamaBackend, GenError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut b = LlamaBackend::init().map_err(|e| e.to_string())?;
            b.void_logs();
            Ok(b)
        })
        .as_ref()
        .map_err(|e| GenError::Model(format!("cannot start llama.cpp: {e}")))
}

/// How to run the embedded model.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// The GGUF file.
    pub model: PathBuf,
    /// CPU threads for decoding. One is the safe choice while anything else
    /// runs: on a 2-core machine, two threads next to a busy core collapse
    /// to a few tokens per second.
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
    inner: Arc<Model>,
}

/// The loaded weights and what was read with them.
struct Model {
    model: LlamaModel,
    template: Option<LlamaChatTemplate>,
    config: EmbeddedConfig,
}

impl EmbeddedGenerator {
    /// Loads the model file.
    pub fn load(config: EmbeddedConfig) -> Result<EmbeddedGenerator, GenError> {
        Ok(EmbeddedGenerator {
            inner: Arc::new(Model::load(config)?),
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
    /// stored in the GGUF, ending with the assistant's opening tag.
    pub fn render(&self, prompt: &Prompt) -> Result<String, GenError> {
        self.inner.render(prompt)
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
}

impl Model {
    fn load(config: EmbeddedConfig) -> Result<Model, GenError> {
        let backend = backend()?;
        if !config.model.exists() {
            return Err(GenError::Model(format!(
                "{}: no such file",
                config.model.display()
            )));
        }
        let model =
            LlamaModel::load_from_file(backend, &config.model, &LlamaModelParams::default())
                .map_err(|e| {
                    GenError::Model(format!("cannot load {}: {e}", config.model.display()))
                })?;
        let template = model.chat_template(None).ok();
        Ok(Model {
            model,
            template,
            config,
        })
    }

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
                let chat = messages
                    .iter()
                    .map(|m| LlamaChatMessage::new(m.role.clone(), m.content.clone()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| GenError::Model(format!("chat message: {e}")))?;
                self.model
                    .apply_chat_template(template, &chat, true)
                    .map_err(|e| GenError::Model(format!("chat template: {e}")))
            }
        }
    }

    /// Runs one request: the prompt is prefilled once, and each sample
    /// restarts from the cached prefix with its own seed (`seed + index`),
    /// so sample `k` of a prompt is the same whenever it is drawn.
    fn run(&self, req: &Request) -> Result<Response, GenError> {
        let started = Instant::now();
        let text = self.render(&req.prompt)?;
        let vocab = self.model.vocab();
        let tokens = vocab.tokenize(text.as_bytes(), true, true);
        if tokens.is_empty() {
            return Err(GenError::Model("the prompt is empty".into()));
        }
        let max_new = req.sampling.max_tokens as usize;
        let n_ctx_train = self.model.n_ctx_train() as usize;
        if tokens.len() + 1 >= n_ctx_train {
            return Err(GenError::Model(format!(
                "the prompt has {} tokens; the model's context is {n_ctx_train}",
                tokens.len()
            )));
        }
        let n_ctx = (tokens.len() + max_new + 8).min(n_ctx_train);
        let threads = self.config.threads.max(1) as i32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx as u32))
            .with_n_batch(512)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let mut ctx = self
            .model
            .new_context(backend()?, params)
            .map_err(|e| GenError::Model(format!("context: {e}")))?;
        let model_err = |e: &dyn std::fmt::Display| GenError::Model(e.to_string());

        // Prefill all but the last prompt token, in chunks of the batch size.
        let last = tokens.len() - 1;
        let mut batch = LlamaBatch::new(512, 1);
        for (c, chunk) in tokens[..last].chunks(512).enumerate() {
            batch.clear();
            for (k, &t) in chunk.iter().enumerate() {
                batch
                    .add(t, (c * 512 + k) as i32, &[0], false)
                    .map_err(|e| model_err(&e))?;
            }
            ctx.decode(&mut batch).map_err(|e| model_err(&e))?;
        }

        let mut out = Response {
            prompt_tokens: tokens.len() as u64,
            calls: 1,
            ..Response::default()
        };
        for k in 0..req.n {
            ctx.clear_kv_cache_seq(Some(0), Some(last as u32), None)
                .map_err(|e| model_err(&e))?;
            let mut sampler = sampler(req, k);
            let mut next: LlamaToken = tokens[last];
            let mut pos = last;
            let mut bytes: Vec<u8> = Vec::new();
            let mut finish = "length";
            let mut generated = 0u64;
            while generated < max_new as u64 && pos + 1 < n_ctx {
                batch.clear();
                batch
                    .add(next, pos as i32, &[0], true)
                    .map_err(|e| model_err(&e))?;
                ctx.decode(&mut batch).map_err(|e| model_err(&e))?;
                pos += 1;
                next = sampler.sample(&ctx, batch.n_tokens() - 1);
                generated += 1;
                if vocab.is_eog(next) {
                    finish = "stop";
                    break;
                }
                bytes.extend(vocab.token_to_piece(next, false, None));
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
}

impl Model {
    fn hidden_state(&self, prompt: &Prompt) -> Result<Vec<f32>, GenError> {
        let text = self.render(prompt)?;
        let tokens = self.model.vocab().tokenize(text.as_bytes(), true, true);
        let n_ctx_train = self.model.n_ctx_train() as usize;
        if tokens.is_empty() || tokens.len() >= n_ctx_train {
            return Err(GenError::Model(format!(
                "a prompt of {} tokens cannot be read (context {n_ctx_train})",
                tokens.len()
            )));
        }
        let threads = self.config.threads.max(1) as i32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(tokens.len() as u32 + 8))
            .with_n_batch(512)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            .with_embeddings(true)
            .with_pooling_type(LlamaPoolingType::None);
        let mut ctx = self
            .model
            .new_context(backend()?, params)
            .map_err(|e| GenError::Model(format!("context: {e}")))?;
        let mut batch = LlamaBatch::new(512, 1);
        let last = tokens.len() - 1;
        for (c, chunk) in tokens.chunks(512).enumerate() {
            batch.clear();
            for (k, &t) in chunk.iter().enumerate() {
                let pos = c * 512 + k;
                batch
                    .add(t, pos as i32, &[0], pos == last)
                    .map_err(|e| GenError::Model(e.to_string()))?;
            }
            ctx.decode(&mut batch)
                .map_err(|e| GenError::Model(e.to_string()))?;
        }
        ctx.embeddings_ith(batch.n_tokens() - 1)
            .map(<[f32]>::to_vec)
            .map_err(|e| GenError::Model(format!("hidden state: {e}")))
    }
}

/// The paper's sampling as a llama.cpp chain: nucleus, then temperature,
/// then a seeded draw; temperature 0 is greedy.
fn sampler(req: &Request, k: usize) -> LlamaSampler {
    let s = &req.sampling;
    if s.temperature <= 0.0 {
        return LlamaSampler::greedy();
    }
    let seed = s.seed.unwrap_or(0).wrapping_add((req.start + k) as u64) as u32;
    LlamaSampler::chain_simple([
        LlamaSampler::top_p(s.top_p as f32, 1),
        LlamaSampler::temp(s.temperature as f32),
        LlamaSampler::dist(seed),
    ])
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
        Some(self.inner.model.n_params())
    }

    fn generate(&self, request: Request) -> GenFuture<'_> {
        let model = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || model.run(&request))
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
