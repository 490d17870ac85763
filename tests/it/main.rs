//! The integration tests: one binary (one link of the crate), one module per
//! area, helpers in [`support`].
//!
//! Tests that start real servers (PostgreSQL, MariaDB, Redis, Memcached,
//! HAProxy, Prometheus, nginx) need them installed: `./scripts/test` installs
//! them, as root, from Debian's packages.

// Test code may unwrap (a panic is how a test fails), block on sleeps (it is
// the client, not a runtime serving anything) and mark helpers `pub` inside
// the private `support` tree (they are shared between test modules).
#![allow(clippy::unwrap_used, clippy::disallowed_methods, unreachable_pub)]

mod support;

mod admin;
mod alertmanager;
mod api;
mod auth;
mod cli;
mod datastores;
mod elasticsearch;
mod es_modes;
mod failback;
mod faults;
mod fleet;
mod fleet_haproxy;
mod grafana;
mod grpc;
mod grpc_check;
mod haproxy;
mod hostile;
mod hung;
mod kinds;
mod listener_tls;
mod notify;
mod packaging;
mod pages;
mod probes;
mod prometheus;
mod properties;
mod reload;
mod secrets;
mod status_page;
mod timing;
mod tls;
