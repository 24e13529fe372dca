#!/bin/sh
# Runs each libFuzzer target of netlink-core for a set time and reports
# the executions. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# cargo-fuzz wants a nightly toolchain for its sanitizer flags; without
# a sanitizer (-s none) the build needs only the coverage instrumentation,
# which stable rustc has, and RUSTC_BOOTSTRAP=1 lets it take the few
# unstable flags cargo-fuzz passes. Install it with `cargo install
# cargo-fuzz`. Seeds in corpus/*/seed-* are real kernel replies
# (capture-seeds.cjs); what libFuzzer adds to the corpus stays untracked.
set -eu

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-frames ack batch}
cd "$(dirname "$0")/../crates/netlink-core/fuzz"
export RUSTC_BOOTSTRAP=1

for target in $targets; do
  mkdir -p "corpus/$target"
  log=$(mktemp)
  # -fork would use more cores than this machine has to spare.
  cargo fuzz run -s none -O "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
    >"$log" 2>&1 || {
    tail -40 "$log"
    echo "fuzz: $target FAILED (crash input under artifacts/$target)"
    exit 1
  }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  echo "fuzz: $target: $runs executions in ${seconds}s ($speed/s), no crash"
  rm -f "$log"
done
