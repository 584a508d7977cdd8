#!/usr/bin/env bash
# Benchmark: a class of 4, 8 and 16 pupils saving the course from each other while the origin is saturated.
# Prints origin bytes / course size, the share from classmates, time until the last pupil is done, and time
# to the first chunk from a classmate. Arguments go to bench/swarm.mjs: --sizes 4,8,16.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/test-deps.sh
cargo build --quiet -p cartable-cli
CARTABLE_BIN=target/debug/cartable node bench/swarm.mjs "$@"
