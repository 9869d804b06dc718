//! `codejury select`: the candidate each rule picks, from a verdict file.

use crate::args::parse_rule;
use crate::output::Output;
use anyhow::{Context, Result};
use codejury_core::Rule;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `select`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Verdicts as `codejury exec --out` writes them.
    #[arg(long)]
    verdicts: PathBuf,
    /// coderm, codet, codet-paper, mbr, passcount or random.
    #[arg(long, default_value = "coderm", value_parser = parse_rule)]
    rule: Rule,
    /// Where to write one selection per task [default: stdout].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Serialize)]
struct Summary<'a> {
    tasks: usize,
    rule: Rule,
    selections: &'a [codejury_pipeline::select::Choice],
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let rows = codejury_pipeline::select::select(&args.verdicts, args.rule)?;
    let mut sink: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None if out.json => Box::new(std::io::sink()),
        None => Box::new(std::io::stdout()),
    };
    for r in &rows {
        writeln!(sink, "{}", serde_json::to_string(r)?)?;
    }
    out.summary(
        &Summary {
            tasks: rows.len(),
            rule: args.rule,
            selections: &rows,
        },
        || {},
    )?;
    Ok(ExitCode::SUCCESS)
}
