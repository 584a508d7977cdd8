#!/usr/bin/env bash
# Installs what the tests and benchmarks need beside the build: Debian's Chromium and its driver, nginx,
# coturn and sqlite3, the lint components, the Node packages of the end-to-end tests. Quick when they are
# there. Sourced after scripts/setup.sh (its say and apt_install) by test.sh and the bench scripts; the
# demo needs none of it.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Chromium and its driver run the browser and end-to-end tests; nginx serves a mirror and coturn a TURN
# relay in the end-to-end tests (each test starts its own on a loopback port with a generated config or
# flags, never the system service).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
command -v turnserver >/dev/null || missing+=(coturn)
command -v sqlite3 >/dev/null || missing+=(sqlite3)   # the outbox tests read the origin's database
if [ ${#missing[@]} -gt 0 ]; then say "installing ${missing[*]} (Debian packages)"; apt_install "${missing[@]}"; fi

# rustfmt and clippy for the lint step (a minimal rustup profile lacks them).
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

# Node packages for the end-to-end tests (playwright-core drives Debian's Chromium; no browser download).
if [ ! -f tests/e2e/node_modules/.package-lock.json ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  say "installing Node packages for the end-to-end tests"
  npm ci --prefix tests/e2e --ignore-scripts --no-audit --no-fund --loglevel=error
fi

