#!/usr/bin/env bash
# Runs every test of the repository on a machine with only Go (see go.mod) and
# Node 20+: installs the frontend dependencies from package-lock.json, then
# type-checks, lints, tests and builds the frontend, then vets, builds the
# backend for every shipped platform and runs every Go test (including the
# end-to-end test that starts the plugin binary over gRPC). No internet is
# needed beyond the npm registry and the Go module proxy for installing.
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

step "backend: go test"
go test -count=1 ./...
