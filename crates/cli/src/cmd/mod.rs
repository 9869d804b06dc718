//! One module per subcommand.

pub mod bench;
pub mod eval;
pub mod exec;
pub mod label;
pub mod scale;
pub mod select;
pub mod verify_bench;
