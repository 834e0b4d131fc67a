/* The after-call steps of a case (Case.segs, Case.peek, Case.compatStack; issue 6;
 * docs/probe-protocol.md): MOV selectors into DS/ES/FS/GS, read them back, then an 8-byte
 * load, optionally through a segment override, then a push/pop in compat code (RG-06). Runs in the probe's own mode after the entry returned; a fault is caught
 * by probe.c's handler like a fault of the entry itself. Header-only: probe.c includes it. */
#ifndef SYSABI_POST_H
#define SYSABI_POST_H
#include <stdint.h>
#include <string.h>
#include "hex.h"
#include "contend.h"

struct post_req {
	int active;
	int has_sel[4];    /* ds es fs gs */
	uint16_t sel[4];
	int has_peek;
	int peek_seg;      /* -1: none, else 0..3 = ds es fs gs */
	uint64_t peek_addr; /* resolved by probe.c */
	int has_cstack;     /* RG-06: push/pop cstack in compat code (probes/contend.c) */
	uint32_t cstack;
	int contend_rounds; /* RG-06: 0, or rounds of call + steps beside a busy sibling */
};
struct post_res {
	uint16_t sel[4]; /* read back after the loads */
	uint64_t value;
	uint32_t cstack; /* the value the compat code popped */
};

/* "0x" + 1..4 hex digits (a selector). */
static int post_parse_hex(const char *s, uint64_t *v)
{
	if (s[0] != '0' || s[1] != 'x' || !s[2])
		return 0;
	uint64_t x = 0;
	int n = 0;
	for (s += 2; *s; s++, n++) {
		int d = hexval(*s);
		if (d < 0 || n >= 16)
			return 0;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return 1;
}

static const char *const POST_SEG_NAMES[4] = { "ds", "es", "fs", "gs" };
static uint16_t post_saved[4];
/* Which of DS, ES, FS, GS the last after-call steps loaded: only those are put back, so a
 * peek-only case runs no segment load at all (valgrind, for one, cannot execute them). */
static int post_loaded[4];

static int sysabi_post_seg_index(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, POST_SEG_NAMES[i]) == 0)
			return i;
	return -1;
}

static const char *sysabi_post_unsupported(const struct post_req *r)
{
	/* glibc reaches its thread block (and the pointer guard siglongjmp needs) through FS on
	 * x86_64/x32 and through GS on i386: the probe cannot survive a fault with it changed. */
#ifdef __x86_64__
	if (r->has_sel[2])
		return "segs.fs in a 64-bit probe: FS holds libc's thread pointer (load GS instead)";
#else
	if (r->has_sel[3])
		return "segs.gs in the i386 probe: GS holds libc's thread pointer (load FS instead)";
#endif
	return 0;
}

static int sysabi_post_parse_segs(struct post_req *r, const char *seg, const char *val)
{
	int i = sysabi_post_seg_index(seg);
	uint64_t v;
	if (i < 0 || !post_parse_hex(val, &v) || v > 0xffff)
		return -1;
	r->has_sel[i] = 1;
	r->sel[i] = (uint16_t)v;
	r->active = 1;
	return 0;
}

#define READ_SEG(name, out) __asm__ volatile("mov %%" name ", %0" : "=r"(out))
#define LOAD_SEG(name, v) __asm__ volatile("mov %0, %%" name : : "r"(v) : "memory")

static void post_read_all(uint16_t s[4])
{
	uint32_t v;
	READ_SEG("ds", v); s[0] = (uint16_t)v;
	READ_SEG("es", v); s[1] = (uint16_t)v;
	READ_SEG("fs", v); s[2] = (uint16_t)v;
	READ_SEG("gs", v); s[3] = (uint16_t)v;
}

static void post_peek(const struct post_req *r, struct post_res *out);

/* noinline: its locals must not live in run_inline's frame across the sysabi_setjmp there. */
__attribute__((noinline)) static void sysabi_post_run(const struct post_req *r, struct post_res *out)
{
	post_read_all(post_saved);
	/* In the order DS, ES, FS, GS, as the spec language documents. */
	for (int i = 0; i < 4; i++)
		post_loaded[i] = r->has_sel[i];
	if (r->has_sel[0]) { uint32_t v = r->sel[0]; LOAD_SEG("ds", v); }
	if (r->has_sel[1]) { uint32_t v = r->sel[1]; LOAD_SEG("es", v); }
	if (r->has_sel[2]) { uint32_t v = r->sel[2]; LOAD_SEG("fs", v); }
	if (r->has_sel[3]) { uint32_t v = r->sel[3]; LOAD_SEG("gs", v); }
	post_read_all(out->sel);
	if (r->has_peek)
		post_peek(r, out);
	/* Last: a fault here (#SS on an unusable SS, RG-06) is the case's signal outcome. */
	if (r->has_cstack)
		out->cstack = sysabi_cstack_run(r->cstack);
}

static void post_peek(const struct post_req *r, struct post_res *out)
{
	uintptr_t a = (uintptr_t)r->peek_addr;
#ifdef __x86_64__
	uint64_t v = 0;
	switch (r->peek_seg) {
	case 0: __asm__ volatile("movq %%ds:(%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
	case 1: __asm__ volatile("movq %%es:(%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
	case 2: __asm__ volatile("movq %%fs:(%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
	case 3: __asm__ volatile("movq %%gs:(%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
	default: v = *(volatile uint64_t *)a; break;
	}
	out->value = v;
#else
	/* Two 32-bit loads (the low half first): the limit check covers both. */
	uint32_t lo = 0, hi = 0;
	switch (r->peek_seg) {
	case 0: __asm__ volatile("movl %%ds:(%2), %0; movl %%ds:4(%2), %1" : "=&r"(lo), "=&r"(hi) : "r"(a) : "memory"); break;
	case 1: __asm__ volatile("movl %%es:(%2), %0; movl %%es:4(%2), %1" : "=&r"(lo), "=&r"(hi) : "r"(a) : "memory"); break;
	case 2: __asm__ volatile("movl %%fs:(%2), %0; movl %%fs:4(%2), %1" : "=&r"(lo), "=&r"(hi) : "r"(a) : "memory"); break;
	case 3: __asm__ volatile("movl %%gs:(%2), %0; movl %%gs:4(%2), %1" : "=&r"(lo), "=&r"(hi) : "r"(a) : "memory"); break;
	default: lo = ((volatile uint32_t *)a)[0]; hi = ((volatile uint32_t *)a)[1]; break;
	}
	out->value = (uint64_t)hi << 32 | lo;
#endif
}

static void sysabi_post_restore(void)
{
	/* Only what the steps may have changed; in 64-bit mode a selector load also reloads the
	 * FS/GS base from the descriptor, so GS base goes back to 0 with selector 0 (the probe
	 * never uses GS; FS is refused above). */
	uint32_t v;
	if (post_loaded[0]) { v = post_saved[0]; LOAD_SEG("ds", v); }
	if (post_loaded[1]) { v = post_saved[1]; LOAD_SEG("es", v); }
#ifdef __x86_64__
	if (post_loaded[3]) { v = post_saved[3]; LOAD_SEG("gs", v); }
#else
	if (post_loaded[2]) { v = post_saved[2]; LOAD_SEG("fs", v); }
#endif
	for (int i = 0; i < 4; i++)
		post_loaded[i] = 0;
}

#endif
