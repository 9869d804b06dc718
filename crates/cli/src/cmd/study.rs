//! `codejury study`: the report that answers what scaling tests costs and
//! what it buys, on one pool — `scale`'s and `eval`'s reports, the vote's
//! reward quality as tests grow, and the published claims checked.

use crate::output::{cancelled_or, Output};
use crate::progress::Progress;
use crate::signals::cancel_on_ctrl_c;
use anyhow::Result;
use codejury_pipeline::{open_store, study, Sandbox};
use std::process::ExitCode;

/// Runs the command; it takes `scale`'s flags, and `--out` holds
/// `study.md`, `study.json`, `scale/` and `report/`.
pub fn run(args: crate::cmd::scale::Args, out: &Output) -> Result<ExitCode> {
    let config = args.config()?;
    let cancel = cancel_on_ctrl_c();
    let sandbox = Sandbox::start(&config.eval.engine)?;
    let store = open_store(config.eval.store.as_deref())?;
    let progress = Progress::new(false);
    let (summary, md) = match study::study(&sandbox, &store, &config, &progress, &cancel) {
        Ok(x) => x,
        Err(e) => return cancelled_or(e, Some(store.path())),
    };
    out.summary(&summary, || print!("{md}"))?;
    Ok(ExitCode::SUCCESS)
}
