//! Where candidates and tests come from: one [`Generator`] interface and
//! its backends, plus the prompts codejury sends.
//!
//! - [`http::HttpGenerator`] talks to any OpenAI-compatible server (vLLM,
//!   SGLang, llama.cpp's server, Ollama) with many calls in flight, retries
//!   and several endpoints.
//! - [`replay::ReplayGenerator`] serves published generations from JSONL,
//!   so a run can be reproduced without a model.
//! - The embedded GGUF model lives in its own crate (`codejury-embedded`),
//!   so that this one builds in seconds.
//!
//! A backend *pushes* results into the caller's sink as they finish, and the
//! sink answers whether to go on: the caller stores each one at once, so a
//! killed run never pays twice for a model call.

pub mod generator;
pub mod http;
pub mod prompts;
pub mod replay;

pub use generator::{
    Completion, GenError, Generator, Message, Prompt, Request, Response, Sampling,
};
