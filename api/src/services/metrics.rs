//! Prometheus metrics, served as text at `GET /metrics`; the HTTP middleware counts requests
//! into them, the services their submissions and report computations.
//!
//! Each server has its own registry (no process-wide globals), so several servers in one
//! process, as in the tests, do not mix their counts.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::{DatabaseBackend, DatabaseConnection};

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    submissions: IntCounterVec,
    reports: HistogramVec,
    pool: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("readiness".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route pattern and status",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route", "status"],
        )?;
        let submissions = IntCounterVec::new(
            Opts::new(
                "submissions_total",
                "Submitted responses: accepted (stored or replayed) or rejected",
            ),
            &["source", "outcome"],
        )?;
        let reports = HistogramVec::new(
            HistogramOpts::new("report_duration_seconds", "Time to compute a report"),
            &["report"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(submissions.clone()))?;
        registry.register(Box::new(reports.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            submissions,
            reports,
            pool,
        })
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Counts submissions from `source` (`api` or `batch`).
    pub fn submissions(&self, source: &str, accepted: usize, rejected: usize) {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        self.submissions
            .with_label_values(&[source, "accepted"])
            .inc_by(count(accepted));
        self.submissions
            .with_label_values(&[source, "rejected"])
            .inc_by(count(rejected));
    }

    /// Records how long computing `report` took.
    pub fn report_computed(&self, report: &str, seconds: f64) {
        self.reports.with_label_values(&[report]).observe(seconds);
    }

    /// The text exposition, with the pool's state sampled now.
    pub fn render(&self, db: &DatabaseConnection) -> Result<String, prometheus::Error> {
        let (size, idle, max) = match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => (0, 0, 0),
        };
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        self.pool.with_label_values(&["open"]).set(i64::from(size));
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(size) - idle);
        self.pool.with_label_values(&["max"]).set(i64::from(max));
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
