/* Set-up calls (Case.setup, docs/probe-protocol.md `setup`/`setarg` lines): system calls a case
 * makes before its call under test, through the ABI's native entry (probes/setup.c). */
#ifndef SYSABI_SETUP_H
#define SYSABI_SETUP_H
#include <stddef.h>
#include <stdint.h>

#define SETUP_MAX 8
/* Room for one of probe.c's operands, which this file never looks inside (probe.c checks the
 * size with a static assertion). */
#define SETUP_OPERAND_BYTES 128

struct setup_call {
	uint64_t nr;
	int expect_errno; /* 0: must not fail */
	int nargs;
	int int80; /* 1: int $0x80 from 64-bit code (x86_64, x32) instead of SYSCALL */
	unsigned args_set; /* bit j: setarg j given */
	char name[48];
	_Alignas(8) unsigned char op[6][SETUP_OPERAND_BYTES];
};

struct setup_req {
	int n;
	int after; /* 1: Case.after (`after`/`afterarg` lines, "after-call N" in messages) */
	int ran; /* calls made so far; ret[0..ran-1] hold their raw results */
	uint64_t ret[SETUP_MAX];
	struct setup_call call[SETUP_MAX];
};

/* Parses probe.c's operand words (5 of them) into an opaque operand; 1 on success. */
typedef int (*setup_parse_op_fn)(char **t, int nt, void *op);
/* Resolves an opaque operand for the case `ctx`; 0 on success, -1 with `why`. */
typedef int (*setup_resolve_fn)(const void *ctx, const void *op, uint64_t *out, char *why, size_t whylen);

/* A `setup` or `setarg` line: 0 if the line is neither, "" when parsed, else what is wrong. */
const char *sysabi_setup_parse(struct setup_req **s, char **t, int nt, setup_parse_op_fn parse_op);
/* The same for Case.after's `after` / `afterarg` lines (calls right after the call under test). */
const char *sysabi_after_parse(struct setup_req **s, char **t, int nt, setup_parse_op_fn parse_op);
/* Make the calls in order. 0: all did what the case asked; -1: `why` says which did not
 * ("set-up call N (name) returned -ERRNO"); the case is then an error. */
int sysabi_setup_run(struct setup_req *s, const void *ctx, setup_resolve_fn resolve, char *why, size_t whylen);
/* `,"setup_ret":["0x..",...]` (or after_ret) for the calls that ran, into buf; "" when none. */
void sysabi_setup_json(const struct setup_req *s, char *buf, size_t cap);
void sysabi_setup_free(struct setup_req *s);

#endif
