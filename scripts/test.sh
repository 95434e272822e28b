#!/usr/bin/env bash
# Runs every test of the repository on a machine with only Go (see go.mod) and
# Node 20+: installs the frontend dependencies from package-lock.json, then
# type-checks, lints, tests and builds the frontend, then vets, builds the
# backend for every shipped platform and runs every Go test (including the
# end-to-end test that starts the plugin binary over gRPC, and the exporter's
# checks with promtool and a real Prometheus on loopback, from Debian's
# prometheus package, installed when missing and possible). No internet is
# needed beyond the npm registry, the Go module proxy and Debian's packages
# for installing.
set -euo pipefail
cd "$(dirname "$0")/.."

MAGE=github.com/magefile/mage@v1.17.2

step() { printf '\n== %s\n' "$*"; }

step "frontend: npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "frontend: typecheck, lint, jest, production build"
npm run --silent ci

step "backend: gofmt, go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on: $unformatted" >&2
  exit 1
fi
go vet ./...

# The Magefile's default target cross-builds all four shipped platforms
# (about 5 minutes on 2 cores); the test command builds this platform only.
step "backend: build dist/gpx_lagwatch_<os>_<arch> for this platform (mage, pinned)"
go run "$MAGE" -v build:backend

# The exporter's tests check its output with promtool and let a real
# Prometheus scrape it on 127.0.0.1 (Debian's prometheus package ships both;
# installing it starts no service where there is no init system, as here).
# Without them those two tests skip and say why.
step "tools: promtool and prometheus (Debian package prometheus, for the exporter tests)"
if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  prometheus --version 2>&1 | head -n 1
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >/dev/null 2>&1; then
    prometheus --version 2>&1 | head -n 1
  else
    echo "could not install Debian's prometheus package: the promtool and real-Prometheus tests will skip"
  fi
else
  echo "promtool is not installed and this user cannot apt-get install prometheus: the promtool and real-Prometheus tests will skip"
fi

step "backend: go test"
go test -count=1 ./...
