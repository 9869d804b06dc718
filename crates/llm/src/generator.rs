//! The one interface every model backend implements, and the values that
//! cross it.

pub use codejury_core::prompt::{Message, Prompt};
use codejury_core::Hint;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How to sample. Part of every cache key, so changing any of it means new
/// generations rather than stale ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Softmax temperature; 0 is greedy.
    pub temperature: f64,
    /// Nucleus sampling mass.
    pub top_p: f64,
    /// Most new tokens per sample.
    pub max_tokens: u32,
    /// Sequences that end a sample (not included in it).
    pub stop: Vec<String>,
    /// Base seed; sample `k` of a prompt uses `seed + k`, so a resumed run
    /// asks for new samples rather than repeats of the first ones.
    pub seed: Option<u64>,
}

impl Default for Sampling {
    /// The paper's sampling: temperature 0.8, top-p 0.95.
    fn default() -> Self {
        Sampling {
            temperature: 0.8,
            top_p: 0.95,
            max_tokens: 1024,
            stop: Vec::new(),
            seed: Some(0),
        }
    }
}

/// One call's worth of work: `n` samples of one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The caller's handle, echoed back with the result.
    pub id: usize,
    /// Which problem this is for (replay looks generations up by it).
    pub task_id: String,
    /// The prompt.
    pub prompt: Prompt,
    /// How many samples.
    pub n: usize,
    /// The index of the first sample wanted in this prompt's stream (the
    /// samples already stored come before it).
    pub start: usize,
    /// How to sample.
    pub sampling: Sampling,
}

/// One sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The generated text (the prompt not included).
    pub text: String,
    /// Why it ended (`stop`, `length`, ...), when the backend says.
    pub finish_reason: Option<String>,
}

/// What one request produced, with what it cost.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    /// The samples; fewer than asked only when a replay file runs out.
    pub completions: Vec<Completion>,
    /// Prompt tokens billed over all calls made for this request.
    pub prompt_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
    /// Time from the first attempt to the last byte.
    pub latency: Duration,
    /// HTTP calls (or model runs) it took, retries included.
    pub calls: u32,
}

/// Why a generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The server refused the request itself (a 4xx other than 408/429):
    /// retrying cannot help.
    #[error("{url} refused the request with HTTP {status}: {body}")]
    Rejected {
        /// The endpoint.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// Every retry failed.
    #[error("gave up after {attempts} attempts; last error: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The backend could not be set up.
    #[error("{0}")]
    Setup(String),
    /// A replay file is unreadable or malformed.
    #[error("{0}")]
    Replay(String),
    /// The embedded model failed.
    #[error("embedded model: {0}")]
    Model(String),
}

impl Hint for GenError {
    fn hint(&self) -> Option<String> {
        match self {
            GenError::Rejected { status: 401 | 403, .. } => {
                Some("check the API key (--api-key-env names the variable it is read from)".into())
            }
            GenError::Rejected { status: 404, .. } => {
                Some("check the model name and that the URL ends in /v1".into())
            }
            GenError::GaveUp { .. } => Some(
                "the server kept failing; run the same command again later to resume where it stopped"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// A future a [`Generator`] returns: boxed, so generators can sit behind
/// `dyn`, and `Send`, so a multi-threaded runtime can drive it.
pub type GenFuture<'a> = Pin<Box<dyn Future<Output = Result<Response, GenError>> + Send + 'a>>;

/// A source of samples, asynchronous: one request in, one future of its
/// samples out. Backends never own a runtime; they run on the caller's
/// (tokio, since the HTTP client and the embedded model's blocking pool
/// need one). [`crate::drive::generate_all`] runs many requests at once and
/// pushes results into a sink; [`crate::drive::blocking`] does the same
/// for synchronous callers.
pub trait Generator: Send + Sync {
    /// A stable name for cache keys: the model and API, not the server
    /// address, so the same model behind another URL shares its samples.
    fn identity(&self) -> String;

    /// The model's parameter count, when known, for FLOP estimates
    /// (2 × parameters × tokens).
    fn parameters(&self) -> Option<u64>;

    /// How many requests are worth having in flight at once (an HTTP
    /// backend's configured concurrency; one for a model on this CPU).
    fn concurrency(&self) -> usize {
        1
    }

    /// Generates the samples of one request.
    fn generate(&self, request: Request) -> GenFuture<'_>;
}
