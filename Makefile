# fraiseql_wire — top-level build: the extension (PGXS) and the client (plain make).
#
#   make                 extension, client library, fraiseql-wire command
#   make install         extension into the server pg_config names; library,
#                        header, pkg-config file and command under PREFIX
#   make check           everything, against a throw-away cluster (scripts/check.sh)
#   make installcheck    regress + integration tests against the server in PG*
#   make demo            the main job end to end on a throw-away cluster
#   make bench           benchmarks (never part of check); bench-quick, bench-micro,
#                        bench-render (v_ document builders compared) run parts
#   make clean
#
# PG_CONFIG=/path/to/pg_config picks the server; PREFIX (default /usr/local)
# and DESTDIR place the client.

PG_CONFIG ?= pg_config
PREFIX    ?= /usr/local
export PG_CONFIG PREFIX DESTDIR

EXT_MAKE    = $(MAKE) --no-print-directory -f extension/Makefile PG_CONFIG=$(PG_CONFIG)
CLIENT_MAKE = $(MAKE) --no-print-directory -C client

.PHONY: all extension client install install-extension install-client uninstall \
        check installcheck demo bench bench-micro bench-quick bench-render fuzz clean deps

all: extension client

extension:
	+$(EXT_MAKE) all

client:
	+$(CLIENT_MAKE) all

install: install-extension install-client

install-extension: extension
	+$(EXT_MAKE) install

install-client: client
	+$(CLIENT_MAKE) install

uninstall:
	+$(EXT_MAKE) uninstall
	+$(CLIENT_MAKE) uninstall

deps:
	@scripts/deps.sh

# CHECK_FUZZ_SECONDS=N also fuzzes the decoder for N seconds (CI sets 60).
check:
	@scripts/check.sh

installcheck:
	@scripts/check.sh --installcheck

demo:
	@scripts/demo.sh

bench:
	@bench/run.sh all

bench-micro:
	@bench/run.sh micro

bench-quick:
	@bench/run.sh quick

bench-render:
	@bench/run.sh render

fuzz:
	+$(CLIENT_MAKE) fuzz

clean:
	+$(EXT_MAKE) clean
	+$(CLIENT_MAKE) clean
	rm -rf build
