//! Helpers shared by the integration tests: the in-process app spawner, the
//! binary runner, and the real servers the tests start as children (each in
//! its own module), plus the fault proxy and the rig that puts every network
//! kind behind one.

pub mod alertmanager;
pub mod app;
pub mod binary;
pub mod certs;
pub mod chromium;
pub mod dnsmasq;
pub mod fault;
pub mod grpcio;
pub mod haproxy;
pub mod lying_grpc;
pub mod mariadb;
pub mod memcached;
pub mod pki;
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod receiver;
pub mod redis;
pub mod rig;
