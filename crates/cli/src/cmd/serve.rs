//! `codejury serve`: the sandbox as an HTTP service (see `codejury-serve`).

use crate::args::{EngineArgs, StoreArgs};
use anyhow::{Context, Result};
use codejury_serve::{ServeConfig, Server};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A file holding the bearer token clients must send [default:
    /// $CODEJURY_TOKEN; required to listen beyond loopback].
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Pairs admitted at once across all requests; more get 429 (`/v1/*`).
    #[arg(long, default_value_t = 4096)]
    queue_pairs: usize,
    /// Largest request body, in MiB (larger ones get 413).
    #[arg(long, default_value_t = 16)]
    max_body_mb: usize,
    /// Requests read or served at once; more wait with their bodies
    /// unread, so bodies in memory stay under this × --max-body-mb.
    #[arg(long, default_value_t = 256)]
    max_requests: usize,
    /// Largest per-pair time limit a request may ask for, in ms of CPU.
    #[arg(long, default_value_t = 60_000)]
    max_timeout_ms: u64,
    /// How long a `/run_code` request waits for room in the queue before
    /// a 504 (the status verl retries), in ms.
    #[arg(long, default_value_t = 60_000)]
    queue_wait_ms: u64,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

fn token(args: &Args) -> Result<Option<String>> {
    if let Some(path) = &args.token_file {
        let t = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?;
        let t = t.trim().to_string();
        anyhow::ensure!(!t.is_empty(), "the token file {} is empty", path.display());
        return Ok(Some(t));
    }
    Ok(std::env::var("CODEJURY_TOKEN")
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty()))
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let config = ServeConfig {
        addr: args.addr,
        token: token(&args)?,
        queue_pairs: args.queue_pairs,
        max_body_bytes: args.max_body_mb.saturating_mul(1 << 20),
        max_requests: args.max_requests,
        max_timeout_ms: args.max_timeout_ms,
        queue_wait: std::time::Duration::from_millis(args.queue_wait_ms),
        engine: args.engine.settings(),
        store: args.store.store.clone(),
    };
    let server = Server::new(&config)?;
    let addr = server.local_addr()?;
    println!(
        "codejury serve: listening on http://{addr} (isolation: {})",
        server.isolation()
    );
    std::io::stdout().flush()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(server.run(shutdown_signal()))?;
    eprintln!("codejury serve: drained, exiting");
    Ok(ExitCode::SUCCESS)
}
