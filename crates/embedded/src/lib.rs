//! The embedded model: a GGUF file run on the CPU inside the codejury
//! process, so `codejury run` works on a laptop with no server, no GPU and
//! nothing to install — the engine is plain Rust, built with the rest.
//!
//! It runs llama-family decoders (Llama, SmolLM, Qwen2) stored as F32,
//! F16, Q4_0, Q4_1 or Q8_0, with llama.cpp's arithmetic: activations
//! quantized to 8 bits per block of 32 for integer dot products (AVX2 where
//! the CPU has it), an f16 key/value cache, the tokenizer and chat template
//! stored in the file. `codejury bench generate` measures it against
//! llama.cpp's own build on the same file. Why not llama.cpp itself: its
//! build needs cmake and libclang, which a fresh machine lacks; why not
//! candle: on the default model it decodes at 18.6 tokens/s on one core
//! where llama.cpp makes 48 (Q4_1 has no SIMD kernel there, and every
//! operation allocates).

#![warn(missing_docs, unreachable_pub)]

mod engine;
mod gguf;
mod model;
mod quant;
mod sample;
mod template;
mod tokenizer;

pub use engine::{EmbeddedConfig, EmbeddedGenerator};
