//! `codejury select`: the candidate each rule picks, from a verdict file.

use crate::common::Output;
use anyhow::{Context, Result};
use codejury_bench::jsonl;
use codejury_core::{PassMatrix, Rule, Verdict};
use serde_json::json;
use std::collections::BTreeMap;
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

fn parse_rule(s: &str) -> Result<Rule, String> {
    s.parse::<Rule>().map_err(|e| e.to_string())
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    // task -> solution -> test -> passed
    let mut cells: BTreeMap<String, BTreeMap<u64, BTreeMap<u64, bool>>> = BTreeMap::new();
    jsonl::for_each(&args.verdicts, |r| {
        let task = r.id("task_id")?;
        let sol = r.f64("solution_index")? as u64;
        let test = r.f64("test_index")? as u64;
        let verdict: Verdict = r
            .str("verdict")?
            .parse()
            .map_err(|e| r.error(format!("field `verdict`: {e}")))?;
        cells
            .entry(task)
            .or_default()
            .entry(sol)
            .or_default()
            .insert(test, verdict.passed());
        Ok(())
    })?;
    let mut rows = Vec::new();
    for (task, sols) in &cells {
        let tests: Vec<u64> = {
            let mut t: Vec<u64> = sols.values().flat_map(|m| m.keys().copied()).collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        let ids: Vec<u64> = sols.keys().copied().collect();
        let pass = sols
            .values()
            .map(|m| {
                tests
                    .iter()
                    .map(|t| m.get(t).copied().unwrap_or(false))
                    .collect()
            })
            .collect();
        let tied: Vec<u64> = args
            .rule
            .select(&PassMatrix::distinct(pass))
            .into_iter()
            .map(|i| ids[i])
            .collect();
        rows.push(json!({"task_id": task, "rule": args.rule.as_str(), "chosen": tied.first(), "tied": tied}));
    }
    let mut sink: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None if out.json => Box::new(std::io::sink()),
        None => Box::new(std::io::stdout()),
    };
    for r in &rows {
        writeln!(sink, "{r}")?;
    }
    out.summary(
        &json!({"tasks": rows.len(), "rule": args.rule.as_str(), "selections": rows}),
        || {},
    );
    Ok(ExitCode::SUCCESS)
}
