//! The OpenAI-compatible HTTP backend: vLLM, SGLang, llama.cpp's server,
//! Ollama, or any hosted API speaking `/v1/chat/completions` and
//! `/v1/completions`.
//!
//! What a run at scale needs from it:
//! - `n` samples per call, so the server prefills the prompt once; when a
//!   server returns fewer choices than asked (some ignore `n`), the rest is
//!   topped up with further calls;
//! - many calls in flight, bounded by a semaphore;
//! - retries with exponential backoff and full jitter on 429, 5xx, 408,
//!   timeouts, dropped connections and malformed bodies, honouring
//!   `Retry-After`; other 4xx fail at once, since repeating them cannot help;
//! - several base URLs taken round-robin; an endpoint that fails is set
//!   aside for a cool-down and tried again after it (or sooner, when every
//!   endpoint is set aside).
//!
//! Requests are plain `serde_json` values with a flattened map of extra
//! fields, since server-specific options (vLLM's `top_k`, llama.cpp's
//! `cache_prompt`) break typed clients.

use crate::generator::{Completion, GenError, GenFuture, Generator, Prompt, Request, Response};
use rand::RngExt;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which OpenAI endpoint a backend calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/chat/completions`: the server applies the model's chat template.
    Chat,
    /// `/completions`: plain text continuation, for base models.
    Completions,
}

/// Everything that configures the backend.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The model name the server knows.
    pub model: String,
    /// Which endpoint.
    pub api: Api,
    /// Base URLs, e.g. `http://gpu1:8000/v1`; calls go round-robin.
    pub base_urls: Vec<String>,
    /// Sent as `Authorization: Bearer ...` when set.
    pub api_key: Option<String>,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Attempts per call before giving up.
    pub max_attempts: u32,
    /// Time allowed for one call.
    pub timeout: Duration,
    /// First backoff; doubles per attempt, with full jitter.
    pub backoff: Duration,
    /// Longest backoff or `Retry-After` honoured.
    pub max_backoff: Duration,
    /// How long a failing endpoint is set aside.
    pub cooldown: Duration,
    /// Extra fields merged into every request body.
    pub extra: Map<String, Value>,
    /// Parameter count, for FLOP estimates.
    pub parameters: Option<u64>,
}

impl HttpConfig {
    /// Defaults for one model behind the given URLs.
    pub fn new(model: impl Into<String>, api: Api, base_urls: Vec<String>) -> HttpConfig {
        HttpConfig {
            model: model.into(),
            api,
            base_urls,
            api_key: None,
            concurrency: 16,
            max_attempts: 6,
            timeout: Duration::from_secs(600),
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            cooldown: Duration::from_secs(10),
            extra: Map::new(),
            parameters: None,
        }
    }
}

struct Endpoint {
    url: String,
    down_until: Option<Instant>,
}

/// Round-robin over base URLs, skipping those cooling down.
struct Endpoints {
    list: Mutex<Vec<Endpoint>>,
    next: AtomicUsize,
}

impl Endpoints {
    fn pick(&self) -> String {
        let list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..list.len() {
            let e = &list[(start + k) % list.len()];
            if e.down_until.is_none_or(|t| t <= now) {
                return e.url.clone();
            }
        }
        // All cooling down: the one back soonest.
        list.iter()
            .min_by_key(|e| e.down_until)
            .map(|e| e.url.clone())
            .unwrap_or_default()
    }

    fn mark(&self, url: &str, ok: bool, cooldown: Duration) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = list.iter_mut().find(|e| e.url == url) {
            e.down_until = if ok {
                None
            } else {
                Some(Instant::now() + cooldown)
            };
        }
    }
}

/// One failed attempt: retry or not, and when.
enum Failure {
    Retry {
        why: String,
        after: Option<Duration>,
        endpoint_fault: bool,
    },
    Fatal(GenError),
}

/// The OpenAI-compatible backend. Its futures run on the caller's tokio
/// runtime; calls in flight are bounded by the configured concurrency
/// across every caller sharing it.
pub struct HttpGenerator {
    ctx: Arc<CallContext>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl HttpGenerator {
    /// Builds the client (no runtime is started: requests run on the
    /// caller's).
    pub fn new(config: HttpConfig) -> Result<HttpGenerator, GenError> {
        if config.base_urls.is_empty() {
            return Err(GenError::Setup("no base URL given".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(config.concurrency)
            .build()
            .map_err(|e| GenError::Setup(format!("HTTP client: {e}")))?;
        let endpoints = Arc::new(Endpoints {
            list: Mutex::new(
                config
                    .base_urls
                    .iter()
                    .map(|u| Endpoint {
                        url: u.trim_end_matches('/').to_string(),
                        down_until: None,
                    })
                    .collect(),
            ),
            next: AtomicUsize::new(0),
        });
        let gate = Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
        Ok(HttpGenerator {
            ctx: Arc::new(CallContext {
                config,
                client,
                endpoints,
            }),
            gate,
        })
    }
}

impl Generator for HttpGenerator {
    fn identity(&self) -> String {
        let config = &self.ctx.config;
        let api = match config.api {
            Api::Chat => "chat",
            Api::Completions => "completions",
        };
        let extra = Value::Object(config.extra.clone());
        format!("openai:{api}:{}:{extra}", config.model)
    }

    fn parameters(&self) -> Option<u64> {
        self.ctx.config.parameters
    }

    fn concurrency(&self) -> usize {
        self.ctx.config.concurrency.max(1)
    }

    fn generate(&self, request: Request) -> GenFuture<'_> {
        Box::pin(async move {
            let _permit = self
                .gate
                .acquire()
                .await
                .map_err(|_| GenError::Setup("the HTTP backend was shut down".into()))?;
            self.ctx.request(request).await
        })
    }
}

struct CallContext {
    config: HttpConfig,
    client: reqwest::Client,
    endpoints: Arc<Endpoints>,
}

impl CallContext {
    /// All the samples of one request, topping up when a call returns
    /// fewer choices than asked.
    async fn request(&self, req: Request) -> Result<Response, GenError> {
        let started = Instant::now();
        let mut out = Response::default();
        while out.completions.len() < req.n {
            let want = req.n - out.completions.len();
            let start = req.start + out.completions.len();
            let (choices, prompt_tokens, completion_tokens, calls) =
                self.call_with_retries(&req, want, start).await?;
            out.calls += calls;
            out.prompt_tokens += prompt_tokens;
            out.completion_tokens += completion_tokens;
            if choices.is_empty() {
                return Err(GenError::GaveUp {
                    attempts: out.calls,
                    last: "the server returned no choices".into(),
                });
            }
            out.completions.extend(choices.into_iter().take(want));
        }
        out.latency = started.elapsed();
        Ok(out)
    }

    fn body(&self, req: &Request, n: usize, start: usize) -> Value {
        let s = &req.sampling;
        let mut body = Map::new();
        body.insert("model".into(), json!(self.config.model));
        match (&req.prompt, self.config.api) {
            (Prompt::Chat(messages), _) => {
                body.insert("messages".into(), json!(messages));
            }
            (Prompt::Text(text), _) => {
                body.insert("prompt".into(), json!(text));
            }
        }
        body.insert("n".into(), json!(n));
        body.insert("temperature".into(), json!(s.temperature));
        body.insert("top_p".into(), json!(s.top_p));
        body.insert("max_tokens".into(), json!(s.max_tokens));
        if !s.stop.is_empty() {
            body.insert("stop".into(), json!(s.stop));
        }
        if let Some(seed) = s.seed {
            body.insert("seed".into(), json!(seed.wrapping_add(start as u64)));
        }
        for (k, v) in &self.config.extra {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }

    async fn call_with_retries(
        &self,
        req: &Request,
        n: usize,
        start: usize,
    ) -> Result<(Vec<Completion>, u64, u64, u32), GenError> {
        let body = self.body(req, n, start);
        let path = match req.prompt {
            Prompt::Chat(_) => "chat/completions",
            Prompt::Text(_) => "completions",
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let base = self.endpoints.pick();
            let url = format!("{base}/{path}");
            match self.call(&url, &body).await {
                Ok((choices, p, c)) => {
                    self.endpoints.mark(&base, true, self.config.cooldown);
                    return Ok((choices, p, c, attempt));
                }
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Retry {
                    why,
                    after,
                    endpoint_fault,
                }) => {
                    if endpoint_fault {
                        self.endpoints.mark(&base, false, self.config.cooldown);
                    }
                    if attempt >= self.config.max_attempts {
                        return Err(GenError::GaveUp {
                            attempts: attempt,
                            last: format!("{url}: {why}"),
                        });
                    }
                    let wait = after
                        .unwrap_or_else(|| backoff(self.config.backoff, attempt))
                        .min(self.config.max_backoff);
                    tracing::warn!(
                        "{url}: {why}; retry {attempt}/{} in {:.1}s",
                        self.config.max_attempts - 1,
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn call(&self, url: &str, body: &Value) -> Result<(Vec<Completion>, u64, u64), Failure> {
        let retry = |why: String, endpoint_fault: bool| Failure::Retry {
            why,
            after: None,
            endpoint_fault,
        };
        let mut rb = self.client.post(url).json(body);
        if let Some(key) = &self.config.api_key {
            rb = rb.bearer_auth(key);
        }
        let resp = rb.send().await.map_err(|e| retry(describe(&e), true))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let text = resp.text().await.map_err(|e| retry(describe(&e), true))?;
        if !status.is_success() {
            let snippet: String = text.chars().take(300).collect();
            let code = status.as_u16();
            if code == 429 || code == 408 || status.is_server_error() {
                return Err(Failure::Retry {
                    why: format!("HTTP {code}: {snippet}"),
                    after: retry_after,
                    endpoint_fault: status.is_server_error(),
                });
            }
            return Err(Failure::Fatal(GenError::Rejected {
                url: url.to_string(),
                status: code,
                body: snippet,
            }));
        }
        parse_choices(&text).map_err(|why| retry(why, true))
    }
}

/// Exponential backoff with full jitter: uniform in [0, base × 2^(k-1)].
fn backoff(base: Duration, attempt: u32) -> Duration {
    let cap = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let f: f64 = rand::rng().random_range(0.0..=1.0);
    cap.mul_f64(f)
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    }
}

/// The choices and token usage of a chat or completions response body.
fn parse_choices(text: &str) -> Result<(Vec<Completion>, u64, u64), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        let snippet: String = text.chars().take(120).collect();
        format!("malformed JSON body ({e}): {snippet:?}")
    })?;
    let choices = v
        .get("choices")
        .and_then(Value::as_array)
        .ok_or_else(|| "the body has no `choices` array".to_string())?;
    let mut out = Vec::with_capacity(choices.len());
    for (k, c) in choices.iter().enumerate() {
        let text = c
            .get("message")
            .and_then(|m| m.get("content"))
            .or_else(|| c.get("text"))
            .ok_or_else(|| format!("choice {k} has neither `message.content` nor `text`"))?;
        out.push(Completion {
            text: text.as_str().unwrap_or_default().to_string(),
            finish_reason: c
                .get("finish_reason")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    let usage = |f: &str| {
        v.get("usage")
            .and_then(|u| u.get(f))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Ok((out, usage("prompt_tokens"), usage("completion_tokens")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_and_completion_bodies_parse_with_usage() {
        let chat = r#"{"choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"},{"message":{"content":null}}],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#;
        let (c, p, t) = parse_choices(chat).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].text, "hi");
        assert_eq!(c[0].finish_reason.as_deref(), Some("stop"));
        assert_eq!(c[1].text, "");
        assert_eq!((p, t), (7, 3));
        let (c, p, _) = parse_choices(r#"{"choices":[{"text":" x"}]}"#).unwrap();
        assert_eq!((c[0].text.as_str(), p), (" x", 0));
        assert!(parse_choices("{\"choices\": [")
            .unwrap_err()
            .contains("malformed"));
        assert!(parse_choices("{}").unwrap_err().contains("choices"));
    }

    #[test]
    fn backoff_stays_under_its_doubling_cap() {
        let base = Duration::from_millis(100);
        for attempt in 1..6 {
            let cap = base * (1 << (attempt - 1));
            for _ in 0..50 {
                assert!(backoff(base, attempt) <= cap);
            }
        }
    }

    #[test]
    fn endpoints_rotate_and_skip_the_one_cooling_down() {
        let e = Endpoints {
            list: Mutex::new(
                ["a", "b", "c"]
                    .iter()
                    .map(|u| Endpoint {
                        url: u.to_string(),
                        down_until: None,
                    })
                    .collect(),
            ),
            next: AtomicUsize::new(0),
        };
        let picks: Vec<String> = (0..3).map(|_| e.pick()).collect();
        assert_eq!(picks, ["a", "b", "c"]);
        e.mark("b", false, Duration::from_secs(60));
        let picks: Vec<String> = (0..4).map(|_| e.pick()).collect();
        assert!(!picks.contains(&"b".to_string()), "{picks:?}");
        e.mark("a", false, Duration::from_secs(60));
        e.mark("c", false, Duration::from_secs(30));
        assert_eq!(e.pick(), "c", "all down: the one back soonest");
        e.mark("b", true, Duration::ZERO);
        assert_eq!(e.pick(), "b");
    }
}
