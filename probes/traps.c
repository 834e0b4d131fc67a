/* Where each single-step trap of a TF case hit, and the flags a signal handler ran with
 * (Observation.trap_log, SignalInfo.handler_rflags; docs/probe-protocol.md "trap_log").
 * The kernel clears DF, RF and TF in the registers a handler starts with and keeps the
 * interrupted ones in the frame (arch/x86/kernel/signal.c handle_signal), so the handler's
 * own flags can only be read by the handler's first instruction: a C prologue may not be
 * first, hence the small assembly entry below. */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include "traps.h"

uint64_t sysabi_sig_next;
#ifdef __x86_64__
uint64_t sysabi_handler_flags;
#else
uint32_t sysabi_handler_flags;
#endif

/* PUSHF/POP and an indirect JMP change no flag and no argument register; the stack is as the
 * kernel left it (return address = the restorer) when the C handler starts. x32 runs this
 * 64-bit code too: the slot it jumps through is 8 bytes wide on purpose. */
#ifdef __x86_64__
__asm__(".text\n"
	".globl sysabi_sig_entry\n"
	".type sysabi_sig_entry, @function\n"
	"sysabi_sig_entry:\n"
	"	pushfq\n"
	"	popq sysabi_handler_flags(%rip)\n"
	"	jmp *sysabi_sig_next(%rip)\n"
	".size sysabi_sig_entry, .-sysabi_sig_entry\n");
#else
__asm__(".text\n"
	".globl sysabi_sig_entry\n"
	".type sysabi_sig_entry, @function\n"
	"sysabi_sig_entry:\n"
	"	pushfl\n"
	"	popl sysabi_handler_flags\n"
	"	jmp *sysabi_sig_next\n"
	".size sysabi_sig_entry, .-sysabi_sig_entry\n");
#endif

static struct {
	uint64_t ip, hflags;
} g_log[TRAP_LOG_MAX];

void sysabi_trap_log(long n, uint64_t ip, uint64_t hflags)
{
	if (n >= 0 && n < TRAP_LOG_MAX) {
		g_log[n].ip = ip;
		g_log[n].hflags = hflags;
	}
}

size_t sysabi_trap_log_json(char *out, size_t cap, long count, int code64)
{
	size_t len = 0;
	if (count <= 0 || cap == 0)
		return 0;
	long n = count < TRAP_LOG_MAX ? count : TRAP_LOG_MAX;
	int w = snprintf(out, cap, ",\"trap_log\":[");
	for (long i = 0; i < n && w > 0 && (size_t)w < cap - len; i++) {
		len += (size_t)w;
		uint64_t ip = code64 ? g_log[i].ip : (uint32_t)g_log[i].ip;
		w = snprintf(out + len, cap - len, "%s{\"ip\":\"0x%llx\",\"hflags\":\"0x%llx\"}", i ? "," : "",
			     (unsigned long long)ip, (unsigned long long)g_log[i].hflags);
	}
	if (w > 0 && (size_t)w < cap - len)
		len += (size_t)w;
	if (cap - len < 2) /* no room for the closing bracket: report no log rather than broken JSON */
		return out[0] = 0, 0;
	out[len++] = ']';
	out[len] = 0;
	return len;
}

uint64_t sysabi_vdso_size(uint64_t base)
{
#ifdef __x86_64__
	typedef Elf64_Ehdr Ehdr;
	typedef Elf64_Phdr Phdr;
#else
	typedef Elf32_Ehdr Ehdr;
	typedef Elf32_Phdr Phdr;
#endif
	if (!base)
		return 0;
	const unsigned char *p = (const unsigned char *)(uintptr_t)base;
	const Ehdr *eh = (const Ehdr *)p;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return 0;
	const Phdr *ph = (const Phdr *)(p + eh->e_phoff);
	uint64_t lo = (uint64_t)-1, hi = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_vaddr < lo)
			lo = ph[i].p_vaddr;
		if (ph[i].p_vaddr + ph[i].p_memsz > hi)
			hi = ph[i].p_vaddr + ph[i].p_memsz;
	}
	/* The image is linked at 0 and mapped at base; the pages it spans are its range. */
	return hi > lo ? (hi - lo + 4095) & ~4095ULL : 0;
}
