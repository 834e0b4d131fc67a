# sysabi — the two commands people run: `make check` (the conformance run) and `make test`
# (the project's own tests). Everything else is a step they depend on.
SHELL := /bin/bash
NODE ?= node
NPM_STAMP := node_modules/.package-lock.json
TS_SOURCES := $(shell find harness sim abi tables -name '*.ts' 2>/dev/null)
SYSABI := $(NODE) dist/harness/cli.js
# Extra arguments for the conformance run, e.g. `make check ARGS="--target sim"`.
ARGS ?=
# Where `make check` writes reports/<run id>/ (TAP per target, results.json, junit.xml).
REPORTS ?= reports

.PHONY: all build check test typecheck coverage-doc lint schema schema-check tables metadata metadata-check probes bench clean distclean check-emulators

all: build

# npm dependencies, installed when missing or when the lock file changed.
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The CLI runs compiled JavaScript (fast start); tsx is only for tests and scripts.
# The bin entry (dist/harness/cli.js) must be executable for `npx sysabi` and `npm link`.
build: dist/.stamp
dist/.stamp: $(NPM_STAMP) tsconfig.json $(TS_SOURCES)
	npx tsc -p tsconfig.json
	@chmod +x dist/harness/cli.js
	@touch $@

# Syscall tables regenerated from the kernel's .tbl files (KTBL_DIR=path/to/linux/arch/x86/entry/syscalls).
tables: $(NPM_STAMP)
	$(NODE) --import tsx abi/tables/gen.ts $(if $(KTBL_DIR),--from $(KTBL_DIR))

# SYSCALL_METADATA (argument names and C types per syscall) from the running kernel's tracefs
# event formats into abi/metadata/syscalls.ts; needs root and CONFIG_FTRACE_SYSCALLS (mounts
# tracefs if needed; SKIPs with the reason otherwise). metadata-check compares without writing.
metadata: $(NPM_STAMP)
	$(NODE) --import tsx abi/metadata/gen.ts
metadata-check: $(NPM_STAMP)
	$(NODE) --import tsx abi/metadata/gen.ts --check

# The C probes (rules in probes/probes.mk).
include probes/probes.mk

# Every spec on every target available here; TAP on stdout, reports in $(REPORTS)/<run id>/.
# Exits non-zero on any unexpected result (fail, xpass, error) or a spec error.
check: build probes
	$(SYSABI) run --out $(REPORTS) $(ARGS)

# Validate every spec without running it (file:line:col errors, exit 2).
lint: build
	$(SYSABI) lint

# specs/schema.json from the zod schema, for editors (yaml-language-server); schema-check
# fails when the committed file is stale.
schema: $(NPM_STAMP)
	$(NODE) --import tsx harness/spec/gen-schema.ts
schema-check: $(NPM_STAMP)
	$(NODE) --import tsx harness/spec/gen-schema.ts --check

# The generated tables of docs/coverage.md (specs and cases per area, specs per catalogue id).
coverage-doc: $(NPM_STAMP)
	$(NODE) --import tsx harness/spec/gen-coverage.ts

# The project's own tests (node-tap, test/**/*.test.ts, run through tsx), after a strict type
# check of everything, tests and benchmarks included (tsx runs TypeScript without checking it).
test: $(NPM_STAMP) probes typecheck
	npx tap

typecheck: $(NPM_STAMP)
	npx tsc --noEmit -p tsconfig.check.json

# Benchmarks (bench/*.bench.ts, one after another); figures go in bench/RESULTS.md by hand.
bench: build probes
	$(NODE) --import tsx bench/run.ts

clean:
	rm -rf dist probes/build $(REPORTS)/*/

distclean: clean
	rm -rf node_modules

# Every installed emulator (qemu-user, valgrind, gVisor) against its expectation file in
# suites/expectations/; one that is not installed is a SKIP with the reason, not a failure.
# CI gates on it (.ci/run). Only the unexpected results (not ok without TODO) and the counts are
# printed; the full TAP, results.json and matrix are in $(REPORTS)/<run id>/.
check-emulators: build probes
	@$(SYSABI) run --quiet --out $(REPORTS) --target qemu,valgrind,gvisor $(ARGS) \
		| { grep -E '^ *not ok |^# [a-z0-9:._-]+: pass |^# total: ' | grep -v '# TODO' || true; }; \
	exit $${PIPESTATUS[0]}
