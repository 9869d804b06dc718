//! Where candidates and tests come from: one asynchronous [`Generator`]
//! interface and its backends, and the driver that runs many requests at
//! once ([`drive`]). What is asked is each language's business; this crate
//! only carries prompts to models.
//!
//! - [`http::HttpGenerator`] talks to any OpenAI-compatible server (vLLM,
//!   SGLang, llama.cpp's server, Ollama) with many calls in flight, retries
//!   and several endpoints.
//! - [`replay::ReplayGenerator`] serves published generations from JSONL,
//!   so a run can be reproduced without a model.
//! - The embedded GGUF model lives in its own crate (`codejury-embedded`),
//!   so that this one builds in seconds.
//!
//! The driver *pushes* results into the caller's sink as they finish, and
//! the sink answers whether to go on: the caller stores each one at once,
//! so a killed run never pays twice for a model call. No backend owns a
//! runtime: async callers (a server) await them on theirs, synchronous ones
//! (the command line) use [`drive::blocking`] with a runtime they own.

#![warn(missing_docs, unreachable_pub)]

pub mod drive;
pub mod generator;
pub mod http;
pub mod replay;

pub use generator::{
    Completion, GenError, GenFuture, Generator, Message, Prompt, Request, Response, Sampling,
};
