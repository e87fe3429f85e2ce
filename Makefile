# apdu-run: build, demo and test entry points. `make test` is what CI runs.
#
# System packages are installed here (not by hand) so a fresh Debian 12 machine works, down to a
# debootstrap minbase root (scripts/fresh-machine-check.sh proves it):
#   build:  build-essential (cc links the binary), pkgconf libpcsclite-dev (the pcsc crate
#           links libpcsclite)
#   tools:  every program the tests and tests/stack/with-pcscd.sh run: sh/bash, kill as a shell
#           builtin, sleep and timeout (coreutils), flock and setpriv (util-linux), mount (the
#           disk-full test's tmpfs), grep. The tests read /proc rather than run `ps`; procps is
#           installed anyway, for whoever looks at a stuck run.
#   keys:   softhsm2 opensc  (the PKCS#11 key tests: a SoftHSM2 token, pkcs11-tool)
#   pages:  chromium fonts-dejavu-core  (the lot page of `apdu-run report --html`, rendered
#           and checked in headless Chromium)
#   stack:  pcscd pcsc-tools vsmartcard-vpcd vsmartcard-vpicc, python3 with pycryptodome for
#           vicc, opensc (PC/SC tests through the real daemon; opensc-explorer and scriptor as
#           third-party clients)

BUILD_PACKAGES := build-essential pkgconf libpcsclite-dev
TOOL_PACKAGES := coreutils util-linux mount grep procps
KEY_PACKAGES := softhsm2 opensc
PAGE_PACKAGES := chromium fonts-dejavu-core
STACK_PACKAGES := pcscd pcsc-tools vsmartcard-vpcd vsmartcard-vpicc python3 python3-pycryptodome opensc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CARGO ?= cargo

.PHONY: all build demo man test lint unit stack-test bench bench-stack deps stack-deps key-deps page-deps fuzz-guard fresh-machine-check

all: build

# Installs whatever of $(1) is missing; runs apt-get update once, only when needed.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_PACKAGES) $(TOOL_PACKAGES))

# SoftHSM2 for the PKCS#11 tests (tests/cli/keys.rs fail without it when CI=true).
key-deps: deps
	$(call apt_install,$(KEY_PACKAGES))

# Headless Chromium for the report page test (tests/cli/report.rs fails without it when CI=true).
page-deps: deps
	$(call apt_install,$(PAGE_PACKAGES))

stack-deps: deps
	$(call apt_install,$(STACK_PACKAGES))

build: deps
	$(CARGO) build --release

# The build first, with cargo's progress on the terminal (the first one takes a while), then
# the demo itself.
demo: deps
	@echo "building apdu-run (release)..."
	$(CARGO) build --release
	$(CARGO) run --release --quiet -- --sim iso7816 scripts/iso7816_demo.rhai

# Manual pages generated from the clap definitions: target/man/apdu-run.1 and one page per
# subcommand (`man -l target/man/apdu-run.1`).
man: deps
	$(CARGO) build --release
	mkdir -p target/man
	$(CARGO) run --release --quiet -- man --dir target/man
	@echo "wrote target/man/apdu-run.1 (man -l target/man/apdu-run.1)"

lint: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

unit: key-deps page-deps
	$(CARGO) test

# Against pcscd + vpcd, with pcscd started and stopped around the tests: the PC/SC backend
# (cards played by vicc), then `apdu-run sim serve` end to end (tests/cli/stack.rs).
stack-test: stack-deps
	APDU_RUN_PCSC=1 tests/stack/with-pcscd.sh sh -c '\
		$(CARGO) test --lib reader::pcsc -- --test-threads=1 && \
		$(CARGO) test --test cli stack -- --test-threads=1'

# stack-deps first: the unit run's tests of with-pcscd.sh look for the vpcd driver's entry.
test: stack-deps lint unit stack-test

# The guard's differential test, long run: GUARD_FUZZ_SEQUENCES random unarmed sequences per
# simulated kind (default 20000), GUARD_FUZZ_SEED (hex) to vary them (BENCHMARKS.md).
GUARD_FUZZ_SEQUENCES ?= 20000
fuzz-guard: deps
	GUARD_FUZZ_SEQUENCES=$(GUARD_FUZZ_SEQUENCES) $(CARGO) test --release --lib \
		sim::differential::unarmed_random_sequences_change_nothing_irreversible_long \
		-- --ignored --nocapture

bench: deps
	$(CARGO) bench --bench exchange
	$(CARGO) bench --bench batch > /dev/null

# The served simulator through pcscd: a Rust PC/SC loop, apdu-run, scriptor (BENCHMARKS.md).
bench-stack: stack-deps
	benches/stack.sh

# A minimal Debian 12 root (debootstrap minbase) where `make demo` and `make test` must pass
# first time; as root, 20-40 minutes (scripts/fresh-machine-check.sh says what it does).
fresh-machine-check:
	nice -n 19 scripts/fresh-machine-check.sh
