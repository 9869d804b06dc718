//! One module per subcommand.

pub mod bench;
pub mod exec;
pub mod label;
pub mod verify_bench;
