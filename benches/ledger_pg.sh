#!/bin/sh
# Throughput of the PostgreSQL ledger: STATIONS station processes × READERS simulated
# readers each on one lot, on a throwaway cluster on loopback, with a profile of five APDU
# steps. Prints cards issued, wall time and cards/s (BENCHMARKS.md).
#
#   benches/ledger_pg.sh            # or: make bench-ledger-pg; STATIONS=8 READERS=2 CARDS=1000 per station
#
# Needs PostgreSQL (initdb, pg_ctl; `make db-deps`) and a release build. As root the
# cluster runs as `nobody`.
set -eu
STATIONS=${STATIONS:-8}
READERS=${READERS:-2}
CARDS=${CARDS:-1000}
BIN=${BIN:-target/release/apdu-run}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL is not installed (make db-deps)" >&2; exit 1; }
DIR=$(mktemp -d)
chmod 777 "$DIR"
AS=""
[ "$(id -u)" = 0 ] && AS="runuser -u nobody --"
PORT=$(( 20000 + $$ % 20000 ))
stop() { $AS "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap stop EXIT INT TERM
$AS "$PGBIN/initdb" -D "$DIR/data" -A trust -U apdu --no-sync >/dev/null
$AS "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null
export APDU_RUN_LEDGER="postgresql://apdu@127.0.0.1:$PORT/postgres"
TOTAL=$((STATIONS * CARDS))
{ echo serial; i=1; while [ $i -le $TOTAL ]; do printf '%08X\n' $i; i=$((i + 1)); done; } > "$DIR/data.csv"
cat > "$DIR/five.yaml" <<'YAML'
name: five
card: iso7816
identify: { apdu: 80 CA 9F 7F 00, bytes: 15-18 }
steps:
  - apdu: 00 A4 00 0C 02 3F 00
  - apdu: 00 A4 00 0C 02 00 10
  - apdu: 00 20 00 01 04 31 32 33 34
  - apdu: 00 D6 00 00 04 ${serial}
  - apdu: 00 B0 00 00 04
    response: ${serial}
YAML
"$BIN" ledger init >/dev/null
"$BIN" ledger import --lot bench "$DIR/data.csv" >/dev/null
start=$(date +%s.%N)
s=0
while [ $s -lt "$STATIONS" ]; do
    "$BIN" batch --lot bench --station "s$s" --sim iso7816 --sim-readers "$READERS" \
        --sim-first $((s * CARDS + 1)) "$DIR/five.yaml" > "$DIR/s$s.out" 2>&1 &
    s=$((s + 1))
done
wait
end=$(date +%s.%N)
issued=$("$BIN" ledger status --lot bench --json | sed 's/.*"issued":\([0-9]*\).*/\1/')
awk -v s="$start" -v e="$end" -v n="$issued" -v st="$STATIONS" -v r="$READERS" \
    'BEGIN { printf "%d stations x %d readers: %d cards issued in %.2f s: %.0f cards/s\n", st, r, n, e - s, n / (e - s) }'
