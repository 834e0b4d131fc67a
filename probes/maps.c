/*
 * Auxiliary-vector and memory-map observations (VD-01, VD-04): the harness asks for them with
 * `observe auxv,maps` (docs/probe-protocol.md), so other cases never pay for reading /proc.
 * The auxv is the one the kernel built at exec (fs/binfmt_elf.c create_elf_tables), copied once
 * at start; the maps are read after the case's call, from /proc/self/maps (fs/proc/task_mmu.c
 * show_map_vma), keeping only the bracketed names the kernel gives its special mappings:
 * [vdso], [vvar], [vvar_vclock] (arch/x86/entry/vdso/vma.c), [vsyscall] (the gate vma of
 * arch/x86/entry/vsyscall/vsyscall_64.c), [stack], [heap].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"

#define AUXV_MAX 64

static unsigned long g_auxv[AUXV_MAX][2];
static int g_nauxv;

/* Names of the AT_* types (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h);
 * any other type is reported as AT_<number>. */
static const char *at_name(unsigned long t)
{
	switch (t) {
	case 2: return "AT_EXECFD";
	case 3: return "AT_PHDR";
	case 4: return "AT_PHENT";
	case 5: return "AT_PHNUM";
	case 6: return "AT_PAGESZ";
	case 7: return "AT_BASE";
	case 8: return "AT_FLAGS";
	case 9: return "AT_ENTRY";
	case 10: return "AT_NOTELF";
	case 11: return "AT_UID";
	case 12: return "AT_EUID";
	case 13: return "AT_GID";
	case 14: return "AT_EGID";
	case 15: return "AT_PLATFORM";
	case 16: return "AT_HWCAP";
	case 17: return "AT_CLKTCK";
	case 23: return "AT_SECURE";
	case 24: return "AT_BASE_PLATFORM";
	case 25: return "AT_RANDOM";
	case 26: return "AT_HWCAP2";
	case 27: return "AT_RSEQ_FEATURE_SIZE";
	case 28: return "AT_RSEQ_ALIGN";
	case 29: return "AT_HWCAP3";
	case 30: return "AT_HWCAP4";
	case 31: return "AT_EXECFN";
	case 32: return "AT_SYSINFO";
	case 33: return "AT_SYSINFO_EHDR";
	case 51: return "AT_MINSIGSTKSZ";
	default: return NULL;
	}
}

void sysabi_auxv_save(char **envp)
{
	char **p = envp;
	while (*p)
		p++;
	/* Pairs of unsigned long (Elf64_auxv_t, or Elf32_auxv_t for i386 and x32, whose long
	 * is 32 bits) up to AT_NULL. */
	unsigned long *a = (unsigned long *)(p + 1);
	g_nauxv = 0;
	for (; a[0] != 0 && g_nauxv < AUXV_MAX; a += 2) {
		g_auxv[g_nauxv][0] = a[0];
		g_auxv[g_nauxv][1] = a[1];
		g_nauxv++;
	}
}

size_t sysabi_auxv_json(char *out, size_t n)
{
	size_t len = 0;
	int w = snprintf(out, n, ",\"auxv\":{");
	if (w < 0 || (size_t)w >= n)
		return 0;
	len = (size_t)w;
	for (int i = 0; i < g_nauxv; i++) {
		char nm[24];
		const char *name = at_name(g_auxv[i][0]);
		if (!name) {
			snprintf(nm, sizeof nm, "AT_%lu", g_auxv[i][0]);
			name = nm;
		}
		w = snprintf(out + len, n - len, "%s\"%s\":\"0x%llx\"", i ? "," : "", name,
			     (unsigned long long)g_auxv[i][1]);
		if (w < 0 || (size_t)w >= n - len)
			return 0;
		len += (size_t)w;
	}
	if (len + 2 > n)
		return 0;
	out[len++] = '}';
	out[len] = 0;
	return len;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* "start-end perms ..." → 1 on success; *rest points past the address range. */
static int parse_range(const char *s, uint64_t *start, uint64_t *end, const char **rest)
{
	uint64_t v = 0;
	int nd = 0, d;
	while ((d = hexval(*s)) >= 0) {
		v = v << 4 | (uint64_t)d;
		s++, nd++;
	}
	if (!nd || *s != '-')
		return 0;
	*start = v;
	s++;
	v = 0, nd = 0;
	while ((d = hexval(*s)) >= 0) {
		v = v << 4 | (uint64_t)d;
		s++, nd++;
	}
	if (!nd || *s != ' ')
		return 0;
	*end = v;
	*rest = s + 1;
	return 1;
}

size_t sysabi_maps_json(char *out, size_t n)
{
	/* A static probe's maps file is well under 4 KiB; 16 KiB leaves room for a case's regions. */
	static char buf[16384];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof buf - 1)
			break;
	}
	close(fd);
	buf[got] = 0;
	int w = snprintf(out, n, ",\"maps\":[");
	if (w < 0 || (size_t)w >= n)
		return 0;
	size_t len = (size_t)w;
	int first = 1;
	for (char *line = buf; *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		uint64_t s, e;
		const char *rest;
		/* The name is the last field, after offset, device and inode (task_mmu.c pads
		 * with spaces before it); only kernel-named mappings are bracketed. */
		const char *name = strchr(line, '[');
		size_t nl_len = name ? strlen(name) : 0;
		int kernel_named = name && name > line && name[-1] == ' ' && nl_len < 40 && name[nl_len - 1] == ']' &&
				   !strpbrk(name, "\"\\");
		if (kernel_named && parse_range(line, &s, &e, &rest) && strlen(rest) >= 4) {
			w = snprintf(out + len, n - len, "%s{\"name\":\"%s\",\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"perms\":\"%.4s\"}",
				     first ? "" : ",", name, (unsigned long long)s, (unsigned long long)e, rest);
			if (w < 0 || (size_t)w >= n - len)
				return 0;
			len += (size_t)w;
			first = 0;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	if (len + 2 > n)
		return 0;
	out[len++] = ']';
	out[len] = 0;
	return len;
}
