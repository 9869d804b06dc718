//! The embedded model: a GGUF file run on the CPU inside the codejury
//! process, so `codejury run` works on a laptop with no server and no GPU.
//!
//! The engine is llama.cpp through its Rust bindings. It was chosen by
//! measurement over candle's quantized llama: on SmolLM2-135M Q4_1, the
//! default model, llama.cpp decodes about twice as fast on one core, and
//! the chat template and tokenizer come from the GGUF exactly as llama.cpp
//! reads them. It sits in its own crate because building llama.cpp takes
//! minutes, and nothing else should wait for it.

#![warn(missing_docs, unreachable_pub)]

mod engine;

pub use engine::{EmbeddedConfig, EmbeddedGenerator};
