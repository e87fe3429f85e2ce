#!/usr/bin/env bash
# Time per APDU through pcscd to a simulated card served by `apdu-run sim serve`, four ways:
#   (a) a bare Rust loop of pcsc::Card::transmit   (benches/pcsc_loop.rs)
#   (b) apdu-run running a Rhai loop of send()     (--reader "Virtual PCD 00 00")
#   (c) apdu-run running the same APDUs as a scriptor file (FILE.apdu)
#   (d) scriptor (pcsc-tools) itself, on that file
# and (a) again with TCP_QUICKACK not re-armed, to show what it saves.
#
#   benches/stack.sh                    # N=2000 APDUs per run, ROUNDS=15, pinned to one CPU
#   N=5000 ROUNDS=9 PIN_CPU=none benches/stack.sh
#
# Every run sends SELECT EF 2F00 once, then N times READ BINARY `00 B0 00 00 10` (16 bytes +
# 90 00) to the demo card (`--card iso7816`).
#
# How it measures (BENCHMARKS.md has the figures and why):
# - The card's clock: `sim serve --timing` records when each command arrives. The gap
#   between two READ BINARY is one whole round trip, with no client's start-up or exit in
#   it, measured the same way for all four. Gaps are averaged over chunks of CHUNK APDUs.
# - Interleaved rounds: each round runs (a), (b), (c), (d) once, in an order rotated round
#   to round, so whatever the machine does over the minute falls on all four alike.
# - Best and median chunk: on this virtual machine the same loop runs for stretches of a
#   fraction of a second at about 40 µs per APDU, then at about 60 or 70, whatever the
#   client. That noise only ever adds time, so each client's fastest chunk is its cost with
#   the least noise in it; comparisons against (a) are given for the best and the median.
# - One CPU (PIN_CPU, default the last one; `none` to not pin): the pcscd started for the
#   bench (all its threads), `sim serve` and the client run on the same CPU. Spread over
#   CPUs, a round trip through three processes may wake idle virtual CPUs and find its
#   code out of the cache; on one CPU each hop is a context switch.
# - The client's own CPU time (user + system, from bash's `time`), less that of a run of the
#   same client with no READ BINARY, per APDU.
#
# Runs pcscd through tests/stack/with-pcscd.sh; needs pcscd, vsmartcard-vpcd and pcsc-tools
# (`make stack-deps`).

set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-2000}
ROUNDS=${ROUNDS:-15}
CHUNK=${CHUNK:-250}
SLOW_N=${SLOW_N:-50}
PIN_CPU=${PIN_CPU:-$(($(nproc) - 1))}
reader='Virtual PCD 00 00'
if [ "$N" -le "$CHUNK" ]; then
    echo "stack.sh: N ($N) must be larger than CHUNK ($CHUNK)" >&2
    exit 2
fi

if [ -z "${APDU_RUN_BENCH_INNER:-}" ]; then
    cargo build --release --quiet
    cargo bench --quiet --bench pcsc_loop --no-run 2>/dev/null
    APDU_RUN_BENCH_INNER=1 exec tests/stack/with-pcscd.sh "$0" "$@"
fi

bin=target/release/apdu-run
# The bench binary cargo built last (its name carries a hash).
pcsc_loop=$(ls -t target/release/deps/pcsc_loop-* | grep -v '\.d$' | head -n 1)
work=$(mktemp -d "${TMPDIR:-/tmp}/apdu-run-bench.XXXXXX")
server=""
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    [ -z "$server" ] || wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

pin=()
if [ "$PIN_CPU" != none ]; then
    pin=(taskset -c "$PIN_CPU")
    if [ -n "${APDU_RUN_PCSCD_PID:-}" ]; then
        taskset -a -p -c "$PIN_CPU" "$APDU_RUN_PCSCD_PID" >/dev/null
    else
        echo "stack.sh: pcscd was already running; it is left where it runs, not pinned" >&2
    fi
fi

# Starts `sim serve` with extra options and waits until pcscd sees the card.
serve() {
    "${pin[@]}" "$bin" sim serve --card iso7816 "$@" 2>"$work/serve.log" &
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

# Stops the server the way Ctrl-C does, so that it writes its --timing file.
stop_serving() {
    kill -INT "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
    # Let pcscd's 400 ms poll see the slot empty before the next card.
    sleep 1
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

# Sets `cmd` to the command line of client $1 for the file stem $2 (`loop` or `none`).
command_of() {
    case $1 in
    a) cmd=("$pcsc_loop" "$([ "$2" = loop ] && echo "$N" || echo 0)" 1) ;;
    b) cmd=("$bin" --reader "$reader" "$work/$2.rhai") ;;
    c) cmd=("$bin" --reader "$reader" "$work/$2.apdu") ;;
    d) cmd=(scriptor -r "$reader" "$work/$2.apdu") ;;
    esac
}

# Runs client $1 on stem $2 and prints the CPU time (user + system) it used, in
# milliseconds. A failed run stops the bench.
run_once() {
    local cpu cmd TIMEFORMAT='%3U %3S'
    command_of "$1" "$2"
    if ! cpu=$({ time "${pin[@]}" "${cmd[@]}" >"$work/out" 2>&1; } 2>&1) || grep -q '^skipped:' "$work/out"; then
        cat "$work/out" >&2
        echo "stack.sh: failed: ${cmd[*]}" >&2
        exit 1
    fi
    awk '{ print ($1 + $2) * 1000 }' <<<"$cpu"
}

pinned="pinned to CPU $PIN_CPU"
[ "$PIN_CPU" != none ] || pinned="not pinned"
echo "N = $N APDUs per run, $ROUNDS rounds, $pinned; card: apdu-run sim serve --card iso7816"
serve --timing "$work/timing"
# Every run, in order: "CLIENT STEM CPU_MS". Each starts with one SELECT, which is how the
# card's timing file is cut into runs.
order=(a b c d)
for _ in $(seq 1 "$ROUNDS"); do
    for c in "${order[@]}"; do
        echo "$c loop $(run_once "$c" loop)"
        echo "$c none $(run_once "$c" none)"
    done
    order=("${order[@]:1}" "${order[0]}")
done >"$work/runs"
stop_serving

# Time per APDU as the card saw it: the gaps between consecutive READ BINARY of a run,
# averaged over chunks of CHUNK, one line "CLIENT µs" per chunk.
awk -v chunk="$CHUNK" '
    NR == FNR { client[NR] = $1; runs = NR; next }
    $3 == "A4" { run++; previous = ""; sum = 0; k = 0; next }
    $3 == "B0" {
        if (previous != "") {
            sum += $1 - previous
            if (++k == chunk) { printf "%s %.3f\n", client[run], sum / k / 1000; sum = 0; k = 0 }
        }
        previous = $1
    }
    END {
        if (run != runs) {
            printf "stack.sh: the card saw %d runs, %d were made\n", run, runs > "/dev/stderr"
            exit 1
        }
    }' "$work/runs" "$work/timing" >"$work/chunks"
[ -z "${CHUNKS_FILE:-}" ] || cp "$work/chunks" "$CHUNKS_FILE"

# The q-quantile (0 for the fastest, 0.5 for the median) of client $1's chunks, in µs per APDU.
quantile() {
    awk -v c="$1" '$1 == c { print $2 }' "$work/chunks" | sort -g |
        awk -v q="$2" '{ v[NR] = $1 } END { print v[int(q * (NR - 1)) + 1] }'
}
# The client's own CPU time per APDU: (Σ loop runs − Σ runs without the loop) / (ROUNDS × N).
cpu() {
    awk -v c="$1" -v n="$N" -v rounds="$ROUNDS" '
        $1 == c && $2 == "loop" { t += $3 } $1 == c && $2 == "none" { t -= $3 }
        END { printf "%.2f", t * 1000 / (rounds * n) }' "$work/runs"
}

echo "Time per APDU as the card sees it (gaps between READ BINARY), in chunks of $CHUNK APDUs;"
echo "the client's own CPU time per APDU beside it:"
names=("(a) pcsc::Card::transmit loop" "(b) apdu-run, Rhai loop of send()"
    "(c) apdu-run, scriptor file" "(d) scriptor -r \"$reader\"")
printf '%-36s %17s %17s  %-18s %s\n' client "best µs/APDU" "median µs/APDU" "vs (a): best, med" \
    "client CPU µs/APDU (vs (a))"
a0=$(quantile a 0) a50=$(quantile a 0.5) a_cpu=$(cpu a)
for i in 0 1 2 3; do
    c=$(echo abcd | cut -c $((i + 1)))
    p0=$(quantile "$c" 0) p50=$(quantile "$c" 0.5) own=$(cpu "$c")
    if [ "$c" = a ]; then
        vs="—" own_vs=$own
    else
        vs=$(awk -v x="$p0" -v y="$p50" -v a="$a0" -v b="$a50" \
            'BEGIN { printf "%+.1f %%, %+.1f %%", (x / a - 1) * 100, (y / b - 1) * 100 }')
        own_vs=$(awk -v x="$own" -v a="$a_cpu" 'BEGIN { printf "%s (%+.2f)", x, x - a }')
    fi
    printf '%-36s %17s %17s  %-18s %s\n' "${names[$i]}" \
        "$(awk -v us="$p0" 'BEGIN { printf "%.1f (%.0f/s)", us, 1e6 / us }')" \
        "$(awk -v us="$p50" 'BEGIN { printf "%.1f (%.0f/s)", us, 1e6 / us }')" "$vs" "$own_vs"
done

echo "Without re-arming TCP_QUICKACK (sim serve --no-quickack), N = $SLOW_N:"
serve --no-quickack
echo "(a) $("${pin[@]}" "$pcsc_loop" "$SLOW_N" 1)"
stop_serving
