//! The generated gRPC health protocol (`grpc.health.v1`, from the proto
//! vendored in `proto/`): messages, the server trait the health service
//! implements in [`crate::http::grpc`], and the client the `grpc` check kind
//! uses in [`crate::checks::grpc`]. At the bottom of the layers, so both can
//! use it without one depending on the other.

/// The generated messages, server and client of `grpc.health.v1`.
pub mod health {
    #![allow(missing_docs, unreachable_pub, clippy::all, clippy::unwrap_used)]
    tonic::include_proto!("grpc.health.v1");
}
