//! One module per subcommand.

pub mod bench;
pub mod bench_generate;
pub mod eval;
pub mod exec;
pub mod label;
pub mod run;
pub mod scale;
pub mod select;
pub mod verify_bench;
