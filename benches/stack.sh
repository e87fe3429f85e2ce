#!/usr/bin/env bash
# Throughput of a simulated card served to pcscd (`apdu-run sim serve`), four ways:
#   (a) a bare Rust loop of pcsc::Card::transmit   (benches/pcsc_loop.rs)
#   (b) apdu-run running a Rhai loop of send()     (--reader "Virtual PCD 00 00")
#   (c) apdu-run running the same APDUs as a scriptor file (FILE.apdu)
#   (d) scriptor (pcsc-tools) itself, on that file
# and (a) again with TCP_QUICKACK not re-armed, to show what it saves.
#
#   benches/stack.sh            # N=2000 APDUs per run, 5 runs, best and median
#   N=5000 RUNS=5 benches/stack.sh
#
# Every run sends SELECT EF 2F00 once, then N times READ BINARY `00 B0 00 00 10` (16 bytes +
# 90 00) to the demo card (`--card iso7816`). (a) times the loop alone; (b), (c), (d) time the
# whole process, so the script also times runs with no READ BINARY and subtracts that
# start-up cost (connecting, compiling the script). Runs pcscd through tests/stack/with-pcscd.sh;
# needs pcscd, vsmartcard-vpcd and pcsc-tools (`make stack-deps`).

set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-2000}
RUNS=${RUNS:-5}
SLOW_N=${SLOW_N:-50}
reader='Virtual PCD 00 00'

if [ -z "${APDU_RUN_BENCH_INNER:-}" ]; then
    cargo build --release --quiet
    cargo bench --quiet --bench pcsc_loop --no-run 2>/dev/null
    APDU_RUN_BENCH_INNER=1 exec tests/stack/with-pcscd.sh "$0" "$@"
fi

bin=target/release/apdu-run
work=$(mktemp -d "${TMPDIR:-/tmp}/apdu-run-bench.XXXXXX")
server=""
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    [ -z "$server" ] || wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Starts `sim serve` with extra options and waits until pcscd sees the card.
serve() {
    "$bin" sim serve --card iso7816 "$@" 2>"$work/serve.log" &
    server=$!
    for _ in $(seq 1 100); do
        if "$bin" readers --json 2>/dev/null | grep '"Virtual PCD 00 00","state":"present"' >/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    cat "$work/serve.log" >&2
    echo "stack.sh: the served card never showed up" >&2
    exit 1
}

stop_serving() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
    # Let pcscd's 400 ms poll see the slot empty before the next card.
    sleep 1
}

# "BEST MEDIAN": seconds (float) the command takes, over $RUNS runs.
times() {
    local start end
    for _ in $(seq 1 "$RUNS"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        echo "$start $end"
    done | awk '{ print ($2 - $1) / 1e9 }' | sort -g |
        awk '{ t[NR] = $1 } END { printf "%.4f %.4f\n", t[1], t[int(NR / 2) + 1] }'
}

# One result line from N and the "BEST MEDIAN" times of a loop and of a start-up-only run;
# the best start-up time is taken off both.
report() { # report NAME N "BEST MEDIAN" "BEST0 MEDIAN0"
    awk -v name="$1" -v n="$2" -v t="$3" -v t0="$4" 'BEGIN {
        split(t, a, " "); split(t0, b, " ")
        printf "%-36s best %6.0f APDU/s, median %6.0f APDU/s", name, n / (a[1] - b[1]), n / (a[2] - b[1])
        printf " (start-up %.3f s excluded; whole process best %.0f APDU/s)\n", b[1], n / a[1]
    }'
}

rhai() { # rhai FILE COUNT
    printf 'send("00 A4 00 0C 02 2F 00", "9000");\nfor i in 0..%d { send("00 B0 00 00 10", "9000"); }\n' "$2" >"$1"
}
apdus() { # apdus FILE COUNT
    { echo "00 A4 00 0C 02 2F 00"; for _ in $(seq 1 "$2"); do echo "00 B0 00 00 10"; done; } >"$1"
}
rhai "$work/loop.rhai" "$N"
rhai "$work/none.rhai" 0
apdus "$work/loop.apdu" "$N"
apdus "$work/none.apdu" 0

echo "N = $N APDUs per run, $RUNS runs each, card: apdu-run sim serve --card iso7816"
serve
echo "(a) $(cargo bench --quiet --bench pcsc_loop -- "$N" "$RUNS")"
report "(b) apdu-run, Rhai loop of send()" "$N" \
    "$(times "$bin" --reader "$reader" "$work/loop.rhai")" \
    "$(times "$bin" --reader "$reader" "$work/none.rhai")"
report "(c) apdu-run, scriptor file" "$N" \
    "$(times "$bin" --reader "$reader" "$work/loop.apdu")" \
    "$(times "$bin" --reader "$reader" "$work/none.apdu")"
report "(d) scriptor -r \"$reader\"" "$N" \
    "$(times scriptor -r "$reader" "$work/loop.apdu")" \
    "$(times scriptor -r "$reader" "$work/none.apdu")"
stop_serving

echo "Without re-arming TCP_QUICKACK (sim serve --no-quickack), N = $SLOW_N:"
serve --no-quickack
echo "(a) $(cargo bench --quiet --bench pcsc_loop -- "$SLOW_N" 1)"
stop_serving
