#!/usr/bin/env bash
# Proves that `make demo` and `make test` pass first time on a fresh, minimal Debian 12 machine:
# a `debootstrap --variant=minbase` root with only build-essential, git, python3,
# ca-certificates and a Rust toolchain, into which this checkout's HEAD is cloned. Everything
# else the build and the tests need (libpcsclite-dev, pcscd, vsmartcard, procps if it were
# needed, …) must be installed by `make` itself, or the check fails.
#
#   sudo nice -n 19 scripts/fresh-machine-check.sh          # as root; takes 20-40 minutes
#
# It checks HEAD (commit first: uncommitted changes are not in the clone). Settings, all
# optional, by environment:
#   FRESH_ROOT=DIR     where to build the root (default: a new /var/tmp/apdu-run-fresh.XXXXXX;
#                      an existing DIR must be empty)
#   FRESH_KEEP=1       keep the root afterwards (deleted by default, once nothing is mounted)
#   FRESH_MIRROR=URL   the Debian mirror (default http://deb.debian.org/debian)
#   FRESH_DEBS=DIR     debootstrap's --cache-dir, to reuse downloaded .debs between runs
#   FRESH_LOG=FILE     the full log (default ROOT.log next to the root)
#   FRESH_CRATES=online  let cargo in the root fetch crates from crates.io itself (default
#                      `vendor`: `cargo vendor` on the host, the root builds offline; use it
#                      where TLS to crates.io goes through a proxy only the host trusts)
#
# The exact steps, which anyone can repeat by hand (ROOT the new root, SRC this checkout):
#   apt-get install -y debootstrap                        # on the host, if missing
#   mkdir ROOT && chmod 755 ROOT                          # it becomes `/`: unprivileged users must enter it
#   debootstrap --variant=minbase bookworm ROOT http://deb.debian.org/debian
#   printf '#!/bin/sh\nexit 101\n' > ROOT/usr/sbin/policy-rc.d; chmod +x ROOT/usr/sbin/policy-rc.d
#   printf '127.0.0.1\tlocalhost\n' > ROOT/etc/hosts    # minbase has none; every installed system does
#   chroot ROOT apt-get install -y --no-install-recommends build-essential git python3 ca-certificates
#   mount -t proc proc ROOT/proc; mount -t sysfs sysfs ROOT/sys
#   mount --rbind /dev ROOT/dev; mount --make-rslave ROOT/dev     # with /dev/pts and /dev/shm
#   mount -t tmpfs tmpfs ROOT/run; mount -t tmpfs tmpfs ROOT/tmp
#   mount --bind -o ro "$(rustc --print sysroot)" ROOT/opt/rust  # the host's Rust toolchain
#   mount --bind /tmp/apdu-run-pcscd.lock ROOT/tmp/apdu-run-pcscd.lock   # see "pcscd" below
#   git -C SRC bundle create ROOT/opt/apdu-run.bundle HEAD
#   (cd SRC && cargo vendor --locked ROOT/opt/cargo-vendor)   # and in ROOT/root/.cargo/config.toml
#       [source.crates-io] replace-with = "vendored"; [source.vendored] directory = "/opt/cargo-vendor"
#   chroot ROOT env -i HOME=/root PATH=/opt/rust/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
#       sh -c 'git clone /opt/apdu-run.bundle /root/apdu-run && cd /root/apdu-run &&
#              make demo && make test'
#   (then unmount in reverse order and delete ROOT)
#
# Notes:
# - Crates: by default the host runs `cargo vendor` for HEAD's Cargo.lock and the root's
#   fresh CARGO_HOME (/root/.cargo) points crates.io at that copy; FRESH_CRATES=online lets
#   cargo in the root download them instead, as a fresh machine would. The toolchain is the host's, mounted read-only: rustup cannot download one here, and the
#   toolchain's own bin directory (cargo, rustc, rustfmt, clippy) on PATH is what rustup
#   would give.
# - policy-rc.d keeps package scripts from starting daemons (pcscd) in the root: they would
#   outlive the chroot and hold the vpcd ports. `make stack-test` starts its own pcscd.
# - pcscd: the root's pcscd has its own /run/pcscd, but the vpcd ports (TCP 35963/35964) are
#   the host's. The host's stack lock file is bound over the root's, so `with-pcscd.sh` in the
#   root takes turns with runs on the host; a pcscd started on the host by hand would clash
#   (the script warns about one).
# - Mounts are undone on any exit (trap), and the root is deleted only when nothing is left
#   mounted under it.
#
# Exit status: 0 when both `make demo` and `make test` passed in the root, 1 when either
# failed, 2 when the root could not be set up.

set -euo pipefail

mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
lock=/tmp/apdu-run-pcscd.lock
src=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)

say() { echo "fresh-machine: $*" >&2; }
fail() {
    say "$*"
    exit 2
}

[ "$(id -u)" = 0 ] || fail "run as root (debootstrap, chroot and mount need it)"
command -v git >/dev/null || fail "git not found"
sysroot=$(rustc --print sysroot 2>/dev/null) || fail "no Rust toolchain on this host (rustc)"
[ -x "$sysroot/bin/cargo" ] && [ -x "$sysroot/bin/cargo-clippy" ] && [ -x "$sysroot/bin/rustfmt" ] ||
    fail "the toolchain at $sysroot lacks cargo, clippy or rustfmt (rustup component add clippy rustfmt)"
if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on the host"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
        fail "cannot install debootstrap"
fi

if [ -n "${FRESH_ROOT:-}" ]; then
    root=$FRESH_ROOT
    mkdir -p "$root"
    [ -z "$(ls -A "$root")" ] || fail "$root is not empty"
else
    root=$(mktemp -d /var/tmp/apdu-run-fresh.XXXXXX)
fi
root=$(cd "$root" && pwd)
# The root directory becomes `/` in the chroot: mktemp makes it 0700, and an unprivileged
# user there (PostgreSQL's `nobody` in the ledger tests) could then execute nothing.
chmod 755 "$root"
log=${FRESH_LOG:-$root.log}
: >"$log"
mounted=()
# Any failure before the makes (set -e included) is a root that could not be set up: exit 2.
phase=setup

# Undoes the mounts (newest first) and deletes the root, unless kept or still mounted.
cleanup() {
    local status=$? i
    trap - EXIT INT TERM
    if [ "$phase" = setup ] && [ "$status" -ne 0 ] && [ "$status" -lt 128 ]; then
        status=2
    fi
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -R "${mounted[i]}" 2>/dev/null || umount -R -l "${mounted[i]}" 2>/dev/null ||
            say "could not unmount ${mounted[i]}"
    done
    if grep -q " $root[/ ]" /proc/self/mounts 2>/dev/null; then
        say "something is still mounted under $root; not deleting it"
    elif [ "${FRESH_KEEP:-0}" = 1 ]; then
        say "kept the root at $root"
    else
        rm -rf --one-file-system "$root"
    fi
    say "full log: $log"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount_in() {
    local target=$root/$1
    shift
    [ -e "$target" ] || mkdir -p "$target"
    mount "$@" "$target"
    mounted+=("$target")
}

# Runs a command in the root with a clean environment; its output goes to the log.
in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/opt/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive "$@"
}

# Seconds since the epoch, for the timings.
now() { date +%s; }

started=$(now)
say "bootstrapping Debian 12 (minbase) into $root"
debootstrap --variant=minbase ${FRESH_DEBS:+--cache-dir="$FRESH_DEBS"} bookworm "$root" "$mirror" \
    >>"$log" 2>&1 || fail "debootstrap failed (see $log)"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
# debootstrap copies the host's resolv.conf; /etc/hosts is what the Debian installer writes.
[ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

mount_in proc -t proc proc
mount_in sys -t sysfs sysfs
mount_in dev --rbind /dev
mount --make-rslave "$root/dev"
mount_in run -t tmpfs tmpfs
mount_in tmp -t tmpfs tmpfs
mount_in opt/rust --bind -o ro "$sysroot"
# A read-only bind needs a remount on older util-linux; harmless otherwise.
mount -o remount,bind,ro "$root/opt/rust" 2>/dev/null || true
[ -e "$lock" ] || : >"$lock"
: >"$root/tmp/apdu-run-pcscd.lock"
mount_in tmp/apdu-run-pcscd.lock --bind "$lock"

say "installing build-essential git python3 ca-certificates"
in_root apt-get install -y -qq --no-install-recommends build-essential git python3 ca-certificates \
    >>"$log" 2>&1 || fail "apt-get install in the root failed (see $log)"
git -C "$src" bundle create "$root/opt/apdu-run.bundle" HEAD >>"$log" 2>&1 ||
    fail "cannot bundle HEAD of $src"
in_root git clone -q /opt/apdu-run.bundle /root/apdu-run >>"$log" 2>&1 ||
    fail "git clone in the root failed (see $log)"
if [ "${FRESH_CRATES:-vendor}" = vendor ]; then
    # Vendored from a clone of HEAD, so that the crates are exactly its Cargo.lock's.
    git clone -q "$root/opt/apdu-run.bundle" "$root/opt/vendor-src" >>"$log" 2>&1
    (cd "$root/opt/vendor-src" && cargo vendor --locked -q "$root/opt/cargo-vendor") >>"$log" 2>&1 ||
        fail "cargo vendor on the host failed (see $log)"
    rm -rf "$root/opt/vendor-src"
    mkdir -p "$root/root/.cargo"
    printf '[source.crates-io]\nreplace-with = "vendored"\n\n[source.vendored]\ndirectory = "/opt/cargo-vendor"\n' \
        >"$root/root/.cargo/config.toml"
fi
say "root ready after $(($(now) - started)) s; checking $(git -C "$src" rev-parse --short HEAD)"

if [ -f /run/pcscd/pcscd.pid ] && pid=$(tr -dc 0-9 </run/pcscd/pcscd.pid) && [ -n "$pid" ] && [ -e "/proc/$pid" ]; then
    say "warning: a pcscd runs on the host (pid $pid); if it did not take $lock, the stack tests will clash with it"
fi

phase=make
status=0
for target in demo test; do
    step=$(now)
    say "make $target …"
    echo "===== make $target" >>"$log"
    if in_root sh -c "cd /root/apdu-run && make $target" >>"$log" 2>&1; then
        say "make $target passed in $(($(now) - step)) s"
    else
        say "make $target FAILED after $(($(now) - step)) s; the end of the log:"
        tail -n 40 "$log" >&2
        status=1
    fi
done
say "wall time $(($(now) - started)) s"
exit "$status"
