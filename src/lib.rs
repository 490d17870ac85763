//! healthgate: a health-check sidecar that answers probes from memory.
//!
//! Checks run in the background on a schedule; their results are folded into one
//! immutable [`snapshot::Snapshot`] that is swapped atomically. Every consumer
//! (HAProxy, Kubernetes, Route 53, Prometheus) reads that snapshot and nothing else,
//! so a probe never calls or waits on a dependency and the load on Elasticsearch is
//! fixed by the schedule, not by the number of probes.
//!
//! # Layout
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`status`] | the leaf every layer shares: `Status` (pass, warn, fail) and `State` (or unknown) |
//! | [`secret`] | `Secret` (never printed) and `Redactor` (scrubs secrets from reasons) |
//! | [`config`] | TOML/YAML + environment layering, validated into domain types; every error names its key; `kinds`, the registry of check kinds |
//! | [`checks`] | the [`checks::Check`] trait, one module per kind (`elasticsearch`, `http`, `tcp`, `postgres`, `mysql`, `redis`, `memcached`, `dns`, `exec`, `grpc`), and `transport`: one vocabulary for transport failures |
//! | [`fleet`] | the other sidecars: peers read in the background, the shared-outage guard, the regional answer (`/fleet`) |
//! | [`reload`] | SIGHUP / `POST /admin/reload`: re-read the file, keep unchanged checks and their state |
//! | [`scheduler`] | owns time: interval, timeout, jitter; one task per check, never two rounds at once |
//! | [`health`] | per-check state: hysteresis (`rise`/`fall`), staleness, aggregation into an overall status |
//! | [`snapshot`] | the immutable published state and its pre-rendered response bodies |
//! | [`history`] | per check: time-slotted aggregates over 24 hours and the last 100 transitions, in fixed memory; the `[history] file` format |
//! | [`page`] | the status page and badges: pure renders of a snapshot (maud, inline SVG, a CSP by hash) |
//! | [`persist`] | the task that saves the histories to `[history] file` |
//! | [`proto`] | the generated gRPC health protocol (`grpc.health.v1`), shared by the gRPC server and the `grpc` check |
//! | [`notify`] | webhooks on transitions (`[[notify]]`): bounded queues, per-check intervals, retries with backoff, Standard Webhooks headers |
//! | [`publisher`] | the single writer: folds results into state, publishes snapshots, updates metrics |
//! | [`http`] | the axum router (`/healthz`, `/readyz`, `/livez`, `/metrics`, `/fleet`, `/status`, `/history`, badges, `/admin`; handlers only read), gzip negotiation, TLS and authentication on the listener, the gRPC health service (`grpc.health.v1`), the probe fast path, and the probe thread that serves it |
//! | [`agent`] | the HAProxy agent-check listener: one pre-rendered line per connection |
//! | [`metrics`] | one struct owning a Prometheus registry with bounded labels |
//! | [`telemetry`] | tracing subscriber setup (text or JSON) |
//! | [`shutdown`] | signals, draining, the grace period |
//! | [`app`] | build (config → parts) separate from run (serve until shutdown) |
//! | [`simulator`] | an Elasticsearch simulator replaying captured responses, for tests and the demo |
//! | [`cli`] | command-line interface: run, `check-config`, `probe`, `demo`, `simulate`, `man`, `completions` |

// No unsafe code anywhere: signals, sockets and processes go through safe wrappers.
#![forbid(unsafe_code)]

pub mod agent;
pub mod app;
pub mod checks;
pub mod cli;
pub mod config;
pub mod fleet;
pub mod health;
pub mod history;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod page;
pub mod persist;
pub mod proto;
pub mod publisher;
pub mod reload;
pub mod scheduler;
pub mod secret;
pub mod shutdown;
pub mod simulator;
pub mod snapshot;
pub mod status;
pub mod telemetry;
