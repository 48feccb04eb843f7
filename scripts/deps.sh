#!/usr/bin/env bash
# Installs everything the build and the tests need, idempotently: Debian packages (apt, as root
# or through sudo) and the npm packages pinned in package-lock.json. Safe to run every time.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  g++ cmake make pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlite3-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhowardhinnant-date-dev tzdata
  zsh      # tests of the generated zsh completion script
  openssl  # certificates for the CLI TLS tests
  libcpp-httplib-dev  # the HTTP API, UI and metrics ports (src/http)
  prometheus          # the metrics test scrapes the server with a real Prometheus; promtool checks
  libpqxx-dev  # infra/orchestration (ingestion)
  postgresql  # ingestion tests create their own cluster
  libcurl4-openssl-dev libssl-dev zlib1g-dev  # backups: S3 (SigV4 over libcurl), sha256, gzip
  libyaml-cpp-dev  # temporalite.yaml (server configuration file)
  libcpptoml-dev   # the C++ SDK reads Temporal's TOML client config profiles (header-only; sdk/src/client_config.cc)
  libzstd-dev  # the store's blob compression (src/persistence/blob_codec.cc)
  chromium # the web UI browser tests (driven headless by npm playwright-core; no browser download)
  clang    # scripts/check-thread-safety.sh (-Wthread-safety) and scripts/fuzz.sh (libFuzzer)
  libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer targets with ASan + UBSan (fuzz/)
  sqlite3  # tests/crash/fatal-write.test.js writes into a live database to make a commit fail
  libjemalloc-dev  # the server's allocator (Debian 12: 5.3.0, static archive; -DTEMPORALITE_ALLOCATOR=system turns it off)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "deps: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "deps: warning: Node $(node --version) found; the Temporal TypeScript SDK 1.24 used by the" \
       "compatibility tests needs Node >= 20.3" >&2
fi

# npm packages: the Temporal API protos (@temporalio/core-bridge) and the official SDK for the
# compatibility tests, exactly as pinned in package-lock.json. Reinstall only when the lock changes.
stamp=node_modules/.temporalite-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "deps: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi

# The web UI's build dependencies (ui/package-lock.json: @temporalio/ui, SvelteKit, vite), used by
# the CMake build (scripts/build-ui.sh). Reinstall only when that lock changes.
ui_stamp=ui/node_modules/.temporalite-lock.sha256
ui_want=$(sha256sum ui/package-lock.json | cut -d' ' -f1)
if [ ! -f "$ui_stamp" ] || [ "$(cat "$ui_stamp")" != "$ui_want" ]; then
  echo "deps: npm ci --prefix ui" >&2
  npm ci --prefix ui --no-audit --no-fund --loglevel=error >&2
  echo "$ui_want" > "$ui_stamp"
fi
