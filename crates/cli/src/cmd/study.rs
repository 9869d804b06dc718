//! `codejury study`: the report that answers what scaling tests costs and
//! what it buys, on one pool or run — `scale`'s and `eval`'s reports, the
//! vote's reward quality as tests grow, and the published claims checked —
//! or on several runs side by side.

use crate::output::{cancelled_or, Output};
use crate::progress::Progress;
use crate::signals::cancel_on_ctrl_c;
use anyhow::{bail, Result};
use codejury_pipeline::study::{self, StudySummary};
use codejury_pipeline::{open_store, Sandbox};
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `study`: `scale`'s, and more run directories to study beside
/// the first.
#[derive(clap::Args, Debug)]
pub struct StudyArgs {
    #[command(flatten)]
    scale: crate::cmd::scale::Args,
    /// More `run` directories: each run is studied into OUT/<its
    /// directory's name>/, and OUT/study.md compares them.
    #[arg(value_name = "MORE_RUN_DIRS", requires = "run")]
    more: Vec<PathBuf>,
}

/// Runs the command: one study into `--out` (`study.md`, `study.json`,
/// `scale/`, `report/`), or with several run directories one study each
/// in a subdirectory and the comparison in `--out`.
pub fn run(args: StudyArgs, out: &Output) -> Result<ExitCode> {
    let cancel = cancel_on_ctrl_c();
    let progress = Progress::new(false);
    if args.more.is_empty() {
        let config = args.scale.config()?;
        let sandbox = Sandbox::start(&config.eval.engine)?;
        let store = open_store(config.eval.store.as_deref())?;
        let (summary, md) = match study::study(&sandbox, &store, &config, &progress, &cancel) {
            Ok(x) => x,
            Err(e) => return cancelled_or(e, Some(store.path())),
        };
        out.summary(&summary, || print!("{md}"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(first) = args.scale.run_dir().map(PathBuf::from) else {
        bail!("several studies need run directories");
    };
    let root = args.scale.out().to_path_buf();
    let mut names = HashSet::new();
    let mut done: Vec<(String, StudySummary)> = Vec::new();
    for (k, dir) in std::iter::once(first)
        .chain(args.more.iter().cloned())
        .enumerate()
    {
        let base = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty() && n != "..")
            .unwrap_or_else(|| format!("run{}", k + 1));
        let name = if names.insert(base.clone()) {
            base
        } else {
            format!("{base}-{}", k + 1)
        };
        names.insert(name.clone());
        let config = args
            .scale
            .clone()
            .on_run(dir.clone(), root.join(&name))
            .config()?;
        let sandbox = Sandbox::start(&config.eval.engine)?;
        let store = open_store(config.eval.store.as_deref())?;
        progress.println(&format!(
            "study {} → {}",
            dir.display(),
            root.join(&name).display()
        ));
        match study::study(&sandbox, &store, &config, &progress, &cancel) {
            Ok((summary, _)) => done.push((name, summary)),
            Err(e) => return cancelled_or(e, Some(store.path())),
        }
    }
    let compared = study::compare(&root, &done)?;
    out.summary(&compared, || print!("{}", compared.markdown))?;
    Ok(ExitCode::SUCCESS)
}
