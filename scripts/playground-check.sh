#!/usr/bin/env bash
# Screenshot the GraphQL playground with headless Chromium (no GPU, no sandbox,
# no background/network chatter), so you can check it renders offline.
#
# Usage: scripts/playground-check.sh [BASE_URL] [OUT_PNG]
#   BASE_URL defaults to http://127.0.0.1:8080 (the page is fetched from BASE_URL/)
#   OUT_PNG  defaults to playground.png
set -euo pipefail

BASE_URL="${1:-http://127.0.0.1:8080}"
OUT="${2:-playground.png}"
CHROMIUM=/usr/bin/chromium

if [[ ! -x "$CHROMIUM" ]]; then
  echo "error: $CHROMIUM not found; install it with: apt-get install -y chromium" >&2
  exit 2
fi

PROFILE_DIR="$(mktemp -d)"
trap 'rm -rf "$PROFILE_DIR"' EXIT

"$CHROMIUM" \
  --headless \
  --no-sandbox \
  --disable-gpu \
  --disable-quic \
  --no-first-run \
  --disable-background-networking \
  --disable-component-update \
  --disable-sync \
  --user-data-dir="$PROFILE_DIR" \
  --virtual-time-budget=15000 \
  --window-size=1400,900 \
  --screenshot="$OUT" \
  "${BASE_URL%/}/"

echo "screenshot written to $OUT"
