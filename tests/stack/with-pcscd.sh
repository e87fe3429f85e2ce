#!/usr/bin/env bash
# Runs one command with the PC/SC stack up: pcscd with vsmartcard's vpcd readers
# (`Virtual PCD 00 00` on TCP 35963, `Virtual PCD 00 01` on 35964).
#
#   tests/stack/with-pcscd.sh CMD [ARGS...]
#   APDU_RUN_PCSC=1 tests/stack/with-pcscd.sh cargo test --lib pcsc
#
# What it does:
# - takes a lock (flock on $APDU_RUN_PCSCD_LOCK, default /tmp/apdu-run-pcscd.lock), so two
#   runs on one machine take turns: there is only one pcscd socket and one pair of vpcd ports;
# - starts `pcscd -f` in the background, its output in a temporary log, and polls with
#   `pcsc_scan -r` until `Virtual PCD` is listed (at most $APDU_RUN_PCSCD_WAIT seconds, 10 by
#   default); if pcscd dies or never lists the readers, prints its log and exits 125;
# - makes Debian 12's `vicc` start (see below) by exporting PYTHONPATH for CMD;
# - exports APDU_RUN_PCSCD_PID, the pid of the pcscd it started, for CMD (unset when it
#   uses one already running; benches/stack.sh pins only a pcscd of its own);
# - runs CMD, stops the pcscd it started (TERM, then KILL after 5 s) on any exit, and exits
#   with CMD's status. A virtual card still connected when pcscd stops exits by itself.
#
# pcscd cannot run twice: it refuses to start while its pid file names a live process. When a
# pcscd already answers (started by hand, by a systemd unit, or through pcscd.socket) and lists
# the `Virtual PCD` readers, it is used as it is and left running. When one is running without
# them, the script exits 125 and says so rather than stop a daemon it did not start. (A
# systemd pcscd.socket with no daemon behind it yet is started by the first client, so it is
# the first case; stop the socket unit if that pcscd lacks vpcd.)
#
# Debian 12's vsmartcard-vpicc 3.3 does not start as packaged: its modules are installed under
# /usr/lib/python3/site-packages/virtualsmartcard, which python3 does not search, and it imports
# PyCrypto's `Crypto`, while Debian's python3-pycryptodome only ships `Cryptodome`. The script
# puts that directory on PYTHONPATH and, where only `Cryptodome` exists, a temporary `Crypto`
# symlink to it. Install python3-pycryptodome for that (`apt-get install python3-pycryptodome`).
#
# It needs only bash, /proc, coreutils (timeout, mktemp, tr, cat, ln, mkdir, rm), grep,
# util-linux's flock and the PC/SC packages; not procps (`ps`): whether a process lives is read
# from /proc/PID/stat. Every tool is checked before anything starts, and a missing one ends the
# script at once (exit 125) with the package to install. Every wait is bounded: the lock (600 s),
# each `pcsc_scan` (5 s), pcscd listing the readers ($APDU_RUN_PCSCD_WAIT), pcscd stopping (5 s
# after TERM, then KILL); only CMD itself runs as long as it runs.
#
# Exit status: CMD's, or 125 when the stack could not be brought up, 130/143 on SIGINT/SIGTERM.

set -euo pipefail

readonly vpcd_name='Virtual PCD'
readonly pcscd_pidfile=/run/pcscd/pcscd.pid

die() {
    echo "with-pcscd: $*" >&2
    exit 125
}

# A live process, not a zombie waiting to be reaped (nor a dead one): the state letter of
# /proc/PID/stat, the field after the command name, which is in parentheses and may itself
# hold spaces and parentheses.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ -n $stat && $stat != Z* && $stat != X* ]]
}

[ $# -ge 1 ] || die "usage: $0 CMD [ARGS...]"

# Every tool this script runs, with the Debian package that has it: all are looked for before
# anything starts, so that a missing one is named rather than met half-way (a missing tool
# used to be mistaken for a dead or absent pcscd, and one case waited for ever).
missing=""
for need in pcscd:pcscd pcsc_scan:pcsc-tools flock:util-linux timeout:coreutils \
    mktemp:coreutils tr:coreutils cat:coreutils ln:coreutils mkdir:coreutils rm:coreutils \
    sleep:coreutils grep:grep; do
    command -v "${need%%:*}" >/dev/null 2>&1 || missing="$missing ${need%%:*} (${need#*:})"
done
[ -z "$missing" ] || die "missing tools:$missing; install them (apt-get install PACKAGE) and run again"
[ -r /proc/self/stat ] || die "/proc is not mounted; it is how this script sees whether pcscd lives"
grep -qs libifdvpcd /etc/reader.conf.d/* ||
    die "no reader.conf entry for the vpcd driver (apt-get install vsmartcard-vpcd)"

wait_seconds=${APDU_RUN_PCSCD_WAIT:-10}
lock=${APDU_RUN_PCSCD_LOCK:-/tmp/apdu-run-pcscd.lock}

exec 9>"$lock"
if ! flock -n 9; then
    echo "with-pcscd: waiting for another run to release $lock" >&2
    flock -w 600 9 || die "gave up waiting for $lock"
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/with-pcscd.XXXXXX")
pcscd_pid=""

stop_pcscd() {
    [ -n "$pcscd_pid" ] || return 0
    kill -TERM "$pcscd_pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive "$pcscd_pid" || break
        sleep 0.1
    done
    if alive "$pcscd_pid"; then
        echo "with-pcscd: pcscd (pid $pcscd_pid) ignored TERM, killing it" >&2
        kill -KILL "$pcscd_pid" 2>/dev/null || true
    fi
    wait "$pcscd_pid" 2>/dev/null || true
    pcscd_pid=""
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_pcscd
    rm -rf "$workdir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Succeeds when pcscd answers and lists the vpcd readers; fails quickly while it does not.
has_vpcd() {
    local listed
    listed=$(timeout 5 pcsc_scan -r 2>/dev/null) || return 1
    [[ $listed == *"$vpcd_name"* ]]
}

running_pid=""
if [ -f "$pcscd_pidfile" ]; then
    # pcscd writes its pid followed by a newline and a NUL.
    running_pid=$(tr -dc '0-9' <"$pcscd_pidfile" 2>/dev/null || true)
    if [ -n "$running_pid" ] && ! alive "$running_pid"; then
        running_pid=""
    fi
fi

if has_vpcd; then
    echo "with-pcscd: using the pcscd already running${running_pid:+ (pid $running_pid)}; it stays running" >&2
elif [ -n "$running_pid" ]; then
    die "a pcscd without the \`$vpcd_name\` readers is running (pid $running_pid); stop it first"
else
    log="$workdir/pcscd.log"
    # The lock descriptor is closed for the daemon so that it never outlives this script's turn.
    pcscd -f >"$log" 2>&1 9>&- &
    pcscd_pid=$!
    deadline=$((SECONDS + wait_seconds))
    until has_vpcd; do
        if ! alive "$pcscd_pid"; then
            wait "$pcscd_pid" 2>/dev/null || true
            pcscd_pid=""
            cat "$log" >&2
            die "pcscd exited before listing \`$vpcd_name\` (its log is above)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            cat "$log" >&2
            die "pcscd did not list \`$vpcd_name\` within ${wait_seconds}s (its log is above)"
        fi
        sleep 0.1
    done
fi

# Make Debian's vicc importable (see the header); only ever adds to PYTHONPATH.
if vicc=$(command -v vicc); then
    read -r shebang <"$vicc" || true
    python=${shebang#\#!}
    python=${python# }
    python=${python%% *}
    pythonpath=""
    debian_vicc=/usr/lib/python3/site-packages/virtualsmartcard
    if ! "$python" -c 'import virtualsmartcard' 2>/dev/null && [ -d "$debian_vicc/virtualsmartcard" ]; then
        pythonpath=$debian_vicc
    fi
    if ! "$python" -c 'import Crypto.Cipher' 2>/dev/null; then
        cryptodome=$("$python" -c 'import Cryptodome, os; print(os.path.dirname(Cryptodome.__file__))' 2>/dev/null || true)
        if [ -n "$cryptodome" ]; then
            mkdir -p "$workdir/python"
            ln -s "$cryptodome" "$workdir/python/Crypto"
            pythonpath="$workdir/python${pythonpath:+:$pythonpath}"
        fi
    fi
    if [ -n "$pythonpath" ]; then
        export PYTHONPATH="$pythonpath${PYTHONPATH:+:$PYTHONPATH}"
    fi
    if ! "$python" -c 'import virtualsmartcard.VirtualSmartcard' 2>/dev/null; then
        echo "with-pcscd: warning: vicc cannot start here (apt-get install python3-pycryptodome?)" >&2
    fi
fi

if [ -n "$pcscd_pid" ]; then
    export APDU_RUN_PCSCD_PID=$pcscd_pid
else
    unset APDU_RUN_PCSCD_PID
fi

status=0
"$@" 9>&- || status=$?
exit "$status"
