//! Running many requests on one [`Generator`] and pushing each result into
//! a sink as it finishes.
//!
//! The sink commits each result (the run store does) the moment it exists,
//! so a killed run never pays twice for a model call; it carries its own
//! error type, so a failing store stops generation and its error comes
//! back out through the types. A failed request is the sink's to judge (it
//! receives the error) and does not stop the others.
//!
//! ```no_run
//! use codejury_llm::drive::{self, GenerationSink};
//! use codejury_llm::{GenError, Generator, Request, Response};
//! use tokio_util::sync::CancellationToken;
//!
//! struct Print;
//! impl GenerationSink for Print {
//!     type Error = std::convert::Infallible;
//!     fn response(&mut self, id: usize, r: Result<Response, GenError>) -> Result<bool, Self::Error> {
//!         println!("{id}: {:?}", r.map(|r| r.completions.len()));
//!         Ok(true)
//!     }
//! }
//!
//! # async fn demo(g: &dyn Generator, requests: Vec<Request>) {
//! drive::generate_all(g, requests, &CancellationToken::new(), &mut Print).await.unwrap();
//! # }
//! ```

use crate::{GenError, Generator, Request, Response};
use futures_util::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

/// A receiver of generation results.
pub trait GenerationSink {
    /// What can go wrong in this sink.
    type Error;

    /// Takes the result of request `id`; `Ok(false)` stops generation
    /// (requests still in flight are dropped), an error stops it and is
    /// returned.
    fn response(
        &mut self,
        id: usize,
        result: Result<Response, GenError>,
    ) -> Result<bool, Self::Error>;
}

/// Runs `requests` on `generator`, [`Generator::concurrency`] at a time,
/// pushing each result into `sink` as it finishes (in any order). Stops
/// when the sink says so, when it fails, or when `cancel` is cancelled;
/// requests not yet finished are then dropped.
pub async fn generate_all<S: GenerationSink>(
    generator: &dyn Generator,
    requests: Vec<Request>,
    cancel: &CancellationToken,
    sink: &mut S,
) -> Result<(), S::Error> {
    let width = generator.concurrency().max(1);
    let mut results = stream::iter(requests)
        .map(|r| async move {
            let id = r.id;
            (id, generator.generate(r).await)
        })
        .buffer_unordered(width);
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Ok(()),
            next = results.next() => next,
        };
        let Some((id, result)) = next else {
            return Ok(());
        };
        if !sink.response(id, result)? {
            return Ok(());
        }
    }
}

/// The same for synchronous callers, on a runtime they own.
pub mod blocking {
    use super::GenerationSink;
    use crate::{Generator, Request};
    use tokio::runtime::Handle;
    use tokio_util::sync::CancellationToken;

    /// [`super::generate_all`], blocking the calling thread on `handle`
    /// (which must not be the thread of a runtime already).
    pub fn generate_all<S: GenerationSink>(
        handle: &Handle,
        generator: &dyn Generator,
        requests: Vec<Request>,
        cancel: &CancellationToken,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        handle.block_on(super::generate_all(generator, requests, cancel, sink))
    }
}
