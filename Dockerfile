# syntax=docker/dockerfile:1
# talentgraph's image: built with the pinned Rust toolchain, run on a small
# base with no shell, package manager or curl, as a numeric non-root user.
# Migrations and the playground are embedded in the binary: the image needs
# nothing but DATABASE_URL.
#
#   docker build -t talentgraph .
#   docker run -p 8080:8080 -e DATABASE_URL=postgres://user:pass@host:5432/talentgraph talentgraph serve --seed
#
# Build arguments:
#   RUST_IMAGE     the builder; its Rust version is rust-toolchain.toml's
#                  (scripts/container-check.sh fails when they differ).
#   RUNTIME_IMAGE  the base to run on: anything with glibc >= 2.36 and
#                  libgcc_s, e.g. debian:bookworm-slim for a shell to debug with.
#   BINARY_STAGE   "builder" compiles from source (the default); "prebuilt"
#                  takes an executable named `talentgraph` from the build
#                  context instead, skipping the builder entirely
#                  (scripts/container-check.sh tests this Dockerfile that way).

ARG RUST_IMAGE=rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
ARG BINARY_STAGE=builder

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
# rust-toolchain.toml stays out: it would make rustup download clippy and
# rustfmt, which a build does not use. The image's toolchain is the same version.
COPY Cargo.toml Cargo.lock ./
# Dependencies first, in their own layer: a source edit does not rebuild them.
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY migrations migrations
COPY assets assets
COPY src src
# COPY keeps the context's modification times, which may be older than the
# placeholder build: touch, so cargo rebuilds the crate itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && install -D target/release/talentgraph /out/talentgraph

FROM scratch AS prebuilt
COPY talentgraph /out/talentgraph

# Picks where the binary comes from; the stage not named is never built.
FROM ${BINARY_STAGE} AS binary

FROM ${RUNTIME_IMAGE} AS runtime
LABEL org.opencontainers.image.title="talentgraph" \
      org.opencontainers.image.description="A GraphQL API that records who worked where, when, and how we know it." \
      org.opencontainers.image.licenses="MIT"
COPY --from=binary /out/talentgraph /usr/local/bin/talentgraph
# Numeric, so that runtimes enforcing non-root (Kubernetes runAsNonRoot) can
# verify it without an /etc/passwd entry. The binary stays root-owned: the
# service cannot rewrite itself.
USER 10001:10001
ENV TALENTGRAPH_LISTEN=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
# The binary probes itself: no curl in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["talentgraph", "healthcheck"]
# SIGTERM starts the graceful shutdown: /readyz turns 503, in-flight requests
# finish, exit 0 within TALENTGRAPH_SHUTDOWN_GRACE_SECS (8 s: inside docker
# stop's 10 s before SIGKILL).
STOPSIGNAL SIGTERM
ENTRYPOINT ["talentgraph"]
CMD ["serve"]
