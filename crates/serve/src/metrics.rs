//! What `/metrics` exposes, in Prometheus's text format: requests by route
//! and status, pairs by verdict, how long pairs take, the admission
//! queue's depth, rejections by reason, and which isolation layers are in
//! force.

use codejury_sandbox::IsolationReport;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LayerLabels {
    layer: String,
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    pairs: Family<VerdictLabels, Counter>,
    pair_seconds: Histogram,
    queue_pairs: Gauge,
    rejections: Family<ReasonLabels, Counter>,
}

impl Metrics {
    /// Registers every metric; the isolation layers are fixed for the
    /// server's life.
    pub(crate) fn new(isolation: IsolationReport, queue_capacity: usize) -> Metrics {
        let mut registry = Registry::with_prefix("codejury");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status code",
            requests.clone(),
        );
        let pairs = Family::<VerdictLabels, Counter>::default();
        registry.register(
            "pairs",
            "(program, test) pairs judged, by verdict",
            pairs.clone(),
        );
        let pair_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "pair_seconds",
            "Wall seconds per pair run in the sandbox (not cached ones)",
            pair_seconds.clone(),
        );
        let queue_pairs = Gauge::default();
        registry.register(
            "queue_pairs",
            "Pairs admitted and not yet done",
            queue_pairs.clone(),
        );
        let capacity = Gauge::<i64>::default();
        capacity.set(i64::try_from(queue_capacity).unwrap_or(i64::MAX));
        registry.register(
            "queue_capacity_pairs",
            "Pairs the admission queue holds",
            capacity,
        );
        let rejections = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "rejections",
            "Requests refused by admission control, by reason",
            rejections.clone(),
        );
        let layers = Family::<LayerLabels, Gauge>::default();
        for (name, on) in isolation.layers() {
            layers
                .get_or_create(&LayerLabels { layer: name.into() })
                .set(i64::from(on));
        }
        registry.register(
            "isolation_layer",
            "1 for each isolation layer in force, 0 for each missing",
            layers,
        );
        Metrics {
            registry,
            requests,
            pairs,
            pair_seconds,
            queue_pairs,
            rejections,
        }
    }

    /// Counts one answered request.
    pub(crate) fn request(&self, route: &str, code: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.into(),
                code,
            })
            .inc();
    }

    /// Counts one judged pair; `wall_s` is `None` for a cached one.
    pub(crate) fn pair(&self, verdict: &str, wall_s: Option<f64>) {
        self.pairs
            .get_or_create(&VerdictLabels {
                verdict: verdict.into(),
            })
            .inc();
        if let Some(s) = wall_s {
            self.pair_seconds.observe(s);
        }
    }

    /// Counts one refused request.
    pub(crate) fn rejection(&self, reason: &str) {
        self.rejections
            .get_or_create(&ReasonLabels {
                reason: reason.into(),
            })
            .inc();
    }

    /// Sets the queue's depth.
    pub(crate) fn queue(&self, pairs: usize) {
        self.queue_pairs
            .set(i64::try_from(pairs).unwrap_or(i64::MAX));
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
