# Probe build rules (owned by the native target work, issue 9): one C source set compiled
# per ABI into probes/build/probe-<abi> (static, so emulators run it without a sysroot),
# plus probes/build/probe-exec-<abi>, the libc-free program `exec` cases start.
# Variants are detected the way tools/testing/selftests/x86/check_cc.sh does it: try to
# link a trivial static program with the flag. A missing -m32/-mx32 toolchain prints a
# note and leaves probes/build/probe-<abi>.missing with the reason; it never fails the build.

PROBE_CC ?= gcc
PROBE_BUILD ?= probes/build
PROBE_CFLAGS ?= -O2 -g -std=gnu11 -Wall -Wextra -fno-stack-protector -fno-pie -Iprobes
PROBE_LDFLAGS ?= -static -no-pie
PROBE_COMMON := probes/hex.h probes/post.h probes/probe.c probes/contend.c probes/contend.h probes/vdso.c probes/seccomp.c probes/notify.c probes/seccomp.h probes/ptrace.c probes/ptrace.h probes/hwbp.c probes/hwbp.h probes/jump.h probes/setup.c probes/setup.h probes/before.c probes/before.h probes/traps.c probes/traps.h probes/maps.c probes/maps.h probes/thread.c probes/thread.h probes/probe.h probes/vdso.h probes/include/sysabi_nr.h probes/probes.mk

# $(1) abi, $(2) compiler flag, $(3) trampoline, $(4) exec program
define build_probe
	@mkdir -p $(PROBE_BUILD)
	@if printf 'int main(void){return 0;}\n' | $(PROBE_CC) $(2) -static -x c -o /dev/null - >/dev/null 2>&1; then \
		rm -f $@.missing; \
		echo "  CC      $@"; \
		$(PROBE_CC) $(2) $(PROBE_CFLAGS) -o $@ probes/probe.c probes/contend.c probes/vdso.c probes/seccomp.c probes/notify.c probes/ptrace.c probes/hwbp.c probes/setup.c probes/before.c probes/traps.c probes/maps.c probes/thread.c probes/$(3) $(PROBE_LDFLAGS) && \
		$(PROBE_CC) $(2) $(PROBE_CFLAGS) -nostdlib -static -Wl,-e,sysabi_exec_entry -Wl,--build-id=none \
			-o $(PROBE_BUILD)/probe-exec-$(1) probes/$(4); \
	else \
		echo "note: $(PROBE_CC) cannot link a static $(2) program (Debian: gcc-multilib, libc6-dev-i386/libc6-dev-x32); skipping probe-$(1)"; \
		echo "no $(2) toolchain ($(PROBE_CC) cannot link a static $(2) program)" > $@.missing; \
	fi
endef

.PHONY: probes
probes: $(PROBE_BUILD)/probe-x86_64 $(PROBE_BUILD)/probe-i386 $(PROBE_BUILD)/probe-x32

$(PROBE_BUILD)/probe-x86_64: $(PROBE_COMMON) probes/enter_x86_64.S probes/exec_x86_64.S
	$(call build_probe,x86_64,-m64,enter_x86_64.S,exec_x86_64.S)

$(PROBE_BUILD)/probe-i386: $(PROBE_COMMON) probes/enter_i386.S probes/exec_i386.S
	$(call build_probe,i386,-m32,enter_i386.S,exec_i386.S)

# x32 runs the 64-bit instructions with 32-bit pointers: same trampoline and exec program.
$(PROBE_BUILD)/probe-x32: $(PROBE_COMMON) probes/enter_x86_64.S probes/exec_x86_64.S
	$(call build_probe,x32,-mx32,enter_x86_64.S,exec_x86_64.S)
