# sysabi — the two commands people run: `make check` (the conformance run) and `make test`
# (the project's own tests). Everything else is a step they depend on.
SHELL := /bin/bash
NODE ?= node
NPM_STAMP := node_modules/.package-lock.json
TS_SOURCES := $(shell find harness sim abi -name '*.ts' 2>/dev/null)
SYSABI := $(NODE) dist/harness/cli.js
# Extra arguments for the conformance run, e.g. `make check ARGS="--target sim"`.
ARGS ?=

.PHONY: all build check test lint tables probes bench clean distclean

all: build

# npm dependencies, installed when missing or when the lock file changed.
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The CLI runs compiled JavaScript (fast start); tsx is only for tests and scripts.
build: dist/.stamp
dist/.stamp: $(NPM_STAMP) tsconfig.json $(TS_SOURCES)
	npx tsc -p tsconfig.json
	@touch $@

# Syscall tables regenerated from the kernel's .tbl files (KTBL_DIR=path/to/linux/arch/x86/entry/syscalls).
tables: $(NPM_STAMP)
	$(NODE) --import tsx abi/tables/gen.ts $(if $(KTBL_DIR),--from $(KTBL_DIR))

# The C probes (rules in probes/probes.mk).
include probes/probes.mk

check: build probes
	$(SYSABI) run --out reports $(ARGS)

lint: build
	$(SYSABI) lint

test: $(NPM_STAMP) probes
	npx tap

bench: build probes
	$(NODE) --import tsx bench/run.ts

clean:
	rm -rf dist probes/build reports/*/

distclean: clean
	rm -rf node_modules
