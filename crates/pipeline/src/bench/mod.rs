//! Measurements, each with its baseline run side by side in the same call
//! and the ratio computed: the execution engine against a process per pair
//! and against no isolation ([`exec`]), the embedded model against
//! llama.cpp's own ([`generate`]).

pub mod exec;
#[cfg(feature = "embedded")]
pub mod generate;
