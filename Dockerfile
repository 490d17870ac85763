# healthgate: multi-stage build, small non-root runtime image.
#
#   docker build -t healthgate .
#   docker run -v $PWD/healthgate.toml:/etc/healthgate/healthgate.toml:ro -p 9898:9898 healthgate
#
# Configuration: mount a file at /etc/healthgate/healthgate.toml, or override any
# key through HEALTHGATE__SECTION__KEY environment variables. Secrets: *_env keys
# (docker run -e ES_PASSWORD=...) or *_file keys (mounted secrets).

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY fixtures ./fixtures
COPY scripts ./scripts
# The shipped build: release profile, statically linked, hot code laid out
# together (scripts/dist says how and why).
RUN ./scripts/dist && strip target/dist/healthgate

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin healthgate
COPY --from=build /src/target/dist/healthgate /usr/local/bin/healthgate
COPY examples/healthgate.toml /etc/healthgate/healthgate.toml
USER 10001:10001
ENV HEALTHGATE_CONFIG=/etc/healthgate/healthgate.toml
EXPOSE 9898 9899
# Liveness of the process only: an Elasticsearch outage must not restart it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["healthgate", "probe", "http://127.0.0.1:9898/livez"]
ENTRYPOINT ["healthgate"]
CMD ["run"]
