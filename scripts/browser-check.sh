#!/usr/bin/env bash
# Opt-in real-browser check of the config and query editors, without Grafana
# (not part of scripts/test.sh: it needs Debian's chromium, installed as root).
#
#   apt-get install -y chromium      # once; the check never downloads a browser
#   npm ci                           # once; playwright-core is a dev dependency
#   scripts/browser-check.sh
#
# Builds tests/browser/harness.tsx (ConfigEditor and QueryEditor with React,
# @grafana/* and Monaco bundled in) into tests/browser/dist, type-checks it,
# serves it on 127.0.0.1 (tests/browser/server.mjs) with the Go handlers' own
# answers to GET /services, /check and /discover (tests/browser/canned/) and a
# canned POST /validate, and drives Chromium with tests/browser/check.mjs:
# token, catalog, EOL URL and OCI token hosts settings, the Service check and
# Add service panels, the query editor with the security and end-of-life
# metrics, the what-if version and the minimum severity (98 checks). Writes
# tests/browser/screenshots/*.png, each under 300 KB. Exits non-zero when a
# check fails. CHROMIUM overrides /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM

if [ ! -x "$CHROMIUM" ]; then
  echo "browser-check: $CHROMIUM not found; install Debian's chromium first (as root: apt-get install -y chromium)" >&2
  exit 2
fi
if [ ! -d node_modules/playwright-core ] || [ ! -x node_modules/.bin/webpack ]; then
  echo "browser-check: dependencies missing; run npm ci first" >&2
  exit 2
fi

step() { printf '\n== %s\n' "$*"; }

step "harness: type check"
node_modules/.bin/tsc -p tests/browser/tsconfig.json

step "harness: build (webpack, tests/browser/webpack.config.mjs)"
timeout 600 node_modules/.bin/webpack -c tests/browser/webpack.config.mjs

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

step "harness: serve on 127.0.0.1"
# The server also exits by itself after LAGWATCH_HARNESS_TTL seconds.
LAGWATCH_HARNESS_TTL=${LAGWATCH_HARNESS_TTL:-400} node tests/browser/server.mjs >"$tmp/server.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(awk '/^listening /{print $2; exit}' "$tmp/server.log")
  [ -n "$port" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "browser-check: the harness server did not start:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi
echo "http://127.0.0.1:$port/?view=config  http://127.0.0.1:$port/?view=query"

step "check: Chromium ($("$CHROMIUM" --version 2>/dev/null | head -1)) via playwright-core"
status=0
timeout 300 node tests/browser/check.mjs "http://127.0.0.1:$port" || status=$?
exit "$status"
