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
#
# Targets: the last stage, `runtime`, is the image. `--target prebuilt` makes
# the same image from an executable named `talentgraph` in the build context
# instead of compiling one (scripts/container-check.sh tests this Dockerfile
# that way). Both start from `runtime-base`, which holds all the runtime
# configuration, so they differ in where the binary comes from only.

ARG RUST_IMAGE=rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

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
# What the source embeds at compile time (include_str!, include_bytes!,
# embed_migrations!); scripts/container-check.sh fails if one is missing here.
COPY migrations migrations
COPY assets assets
COPY data data
COPY src src
# COPY keeps the context's modification times, which may be older than the
# placeholder build: touch, so cargo rebuilds the crate itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && install -D target/release/talentgraph /out/talentgraph

FROM ${RUNTIME_IMAGE} AS runtime-base
LABEL org.opencontainers.image.title="talentgraph" \
      org.opencontainers.image.description="A GraphQL API that records who worked where, when, and how we know it." \
      org.opencontainers.image.licenses="MIT"
# Numeric, so that runtimes enforcing non-root (Kubernetes runAsNonRoot) can
# verify it without an /etc/passwd entry. COPY leaves the binary root-owned:
# the service cannot rewrite itself.
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

FROM runtime-base AS prebuilt
COPY talentgraph /usr/local/bin/talentgraph

FROM runtime-base AS runtime
COPY --from=builder /out/talentgraph /usr/local/bin/talentgraph
