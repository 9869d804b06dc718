//! One module per subcommand: flags, the call into the pipeline, rendering.

pub mod bench;
pub mod eval;
pub mod exec;
pub mod label;
pub mod run;
pub mod scale;
pub mod select;
pub mod serve;
pub mod study;
pub mod verify_bench;
