//! codejury as an HTTP service, for RL loops and evaluation jobs that call
//! the sandbox thousands of times a minute: one shared engine (its warm
//! workers outlive requests), one run store, and admission control
//! counted in pairs so a burst is refused early instead of exhausting
//! memory.
//!
//! Routes:
//! - `POST /v1/judge`: one problem's candidates × tests → the verdict
//!   matrix and each rule's pick ([`codejury_pipeline::judge::judge`]);
//!   `Accept: application/x-ndjson` streams each pair as it is judged,
//!   then the result.
//! - `POST /v1/submit`: one program's ground-truth verdict on a benchmark
//!   task, as a reward ([`codejury_pipeline::judge::submit`]).
//! - `POST /run_code`: SandboxFusion's route and shapes, one whole
//!   program with its stdin (what verl calls per test case).
//! - `GET /v1/ping`, `/healthz`, `/readyz` (503 while draining),
//!   `/metrics` (Prometheus).
//!
//! A bearer token (compared in constant time) guards everything but the
//! probes; the server refuses to listen beyond loopback without one. Every
//! response carries `x-codejury-isolation`, the sandbox's layers in force.
//! On shutdown the server stops taking requests, finishes the ones in
//! flight, and returns.

mod admission;
pub mod bench;
mod error;
mod metrics;
mod routes;
mod run_code;

use admission::Admission;
use codejury_bench::{Benchmark, Dataset};
use codejury_core::Hint;
use codejury_pipeline::config::EngineSettings;
use codejury_pipeline::{open_store, Sandbox};
use codejury_store::Store;
use metrics::Metrics;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen (port 0: any free port; see [`Server::local_addr`]).
    pub addr: SocketAddr,
    /// The bearer token clients must send (`None`: no authentication,
    /// allowed on loopback only).
    pub token: Option<String>,
    /// Pairs admitted at once, across every request: the bound on queued
    /// work and on the memory it holds.
    pub queue_pairs: usize,
    /// Largest request body, in bytes (larger ones get 413).
    pub max_body_bytes: usize,
    /// Requests read or served at once; more wait with their bodies
    /// unread (bodies in memory stay under this × `max_body_bytes`).
    pub max_requests: usize,
    /// Largest per-pair time limit a request may ask for, in milliseconds
    /// of CPU.
    pub max_timeout_ms: u64,
    /// How long a `/run_code` request waits for room in the queue before
    /// its 504.
    pub queue_wait: std::time::Duration,
    /// The sandbox.
    pub engine: EngineSettings,
    /// The run store (`None`: `$CODEJURY_CACHE_DIR/store.sqlite`).
    pub store: Option<PathBuf>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            queue_pairs: 4096,
            max_body_bytes: 16 << 20,
            max_requests: 256,
            max_timeout_ms: 60_000,
            queue_wait: std::time::Duration::from_secs(60),
            engine: EngineSettings::default(),
            store: None,
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without a token would hand a code runner to
    /// the network.
    #[error("refusing to listen on {0} without a token")]
    NoToken(SocketAddr),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The sandbox or the store could not start.
    #[error(transparent)]
    Pipeline(#[from] codejury_pipeline::Error),
    /// Serving failed.
    #[error("the server failed")]
    Io(#[source] std::io::Error),
}

impl Hint for ServeError {
    fn hint(&self) -> Option<String> {
        match self {
            ServeError::NoToken(_) => {
                Some("pass --token-file (or set CODEJURY_TOKEN), or listen on 127.0.0.1".into())
            }
            ServeError::Bind { .. } => {
                Some("pick another --addr, or stop what listens there".into())
            }
            ServeError::Pipeline(e) => e.hint(),
            ServeError::Io(_) => None,
        }
    }
}

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) sandbox: Sandbox,
    pub(crate) store: Store,
    /// Benchmarks loaded so far, for `/v1/submit`.
    pub(crate) datasets: Mutex<HashMap<Benchmark, Arc<Dataset>>>,
    pub(crate) admission: Admission,
    pub(crate) metrics: Metrics,
    pub(crate) token: Option<Vec<u8>>,
    pub(crate) draining: AtomicBool,
    /// The isolation layers in force, as the response header says them.
    pub(crate) isolation: String,
    pub(crate) max_timeout_ms: u64,
    pub(crate) queue_wait: std::time::Duration,
    /// Permits for requests being read or served.
    pub(crate) requests: Arc<tokio::sync::Semaphore>,
}

/// A server bound to its address, with its sandbox started.
pub struct Server {
    listener: std::net::TcpListener,
    state: Arc<AppState>,
    max_body_bytes: usize,
}

impl Server {
    /// Starts the sandbox (proving its isolation with a worker), opens the
    /// store and binds the address.
    pub fn new(config: &ServeConfig) -> Result<Server, ServeError> {
        if config.token.is_none() && !config.addr.ip().is_loopback() {
            return Err(ServeError::NoToken(config.addr));
        }
        let sandbox = Sandbox::start(&config.engine)?;
        let store = open_store(config.store.as_deref())?;
        let iso = sandbox.engine().isolation();
        let isolation = iso
            .layers()
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(",");
        let listener =
            std::net::TcpListener::bind(config.addr).map_err(|source| ServeError::Bind {
                addr: config.addr,
                source,
            })?;
        listener.set_nonblocking(true).map_err(ServeError::Io)?;
        let admission = Admission::new(config.queue_pairs);
        let metrics = Metrics::new(iso, admission.capacity());
        Ok(Server {
            listener,
            state: Arc::new(AppState {
                sandbox,
                store,
                datasets: Mutex::new(HashMap::new()),
                admission,
                metrics,
                token: config.token.as_ref().map(|t| t.as_bytes().to_vec()),
                draining: AtomicBool::new(false),
                isolation: if isolation.is_empty() {
                    "none".into()
                } else {
                    isolation
                },
                max_timeout_ms: config.max_timeout_ms,
                queue_wait: config.queue_wait,
                requests: Arc::new(tokio::sync::Semaphore::new(config.max_requests.max(1))),
            }),
            max_body_bytes: config.max_body_bytes,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.listener.local_addr().map_err(ServeError::Io)
    }

    /// The isolation layers in force, comma-separated.
    pub fn isolation(&self) -> &str {
        &self.state.isolation
    }

    /// Serves until `shutdown` resolves; then `/readyz` turns 503, no new
    /// connection is taken, and the requests in flight finish before this
    /// returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let listener = tokio::net::TcpListener::from_std(self.listener).map_err(ServeError::Io)?;
        let state = self.state.clone();
        let app = routes::router(self.state, self.max_body_bytes);
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                state
                    .draining
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                tracing::info!("draining: finishing the requests in flight");
            })
            .await
            .map_err(ServeError::Io)
    }
}
