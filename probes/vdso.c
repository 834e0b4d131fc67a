/*
 * Finds a symbol in the vDSO the kernel mapped into this process (ABI-FACTS VD-01/VD-02):
 * AT_SYSINFO_EHDR gives the ELF header; its PT_DYNAMIC segment gives the dynamic symbol
 * table, string table and DT_HASH (whose nchain is the symbol count). The x86_64 vDSO is
 * ELF64; the i386 and x32 vDSOs are ELF32, so the class follows the pointer size.
 */
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>

#include "vdso.h"

#if __SIZEOF_POINTER__ == 8
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Phdr Phdr;
typedef Elf64_Dyn Dyn;
typedef Elf64_Sym Sym;
#define ST_TYPE ELF64_ST_TYPE
#define ST_BIND ELF64_ST_BIND
#else
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Phdr Phdr;
typedef Elf32_Dyn Dyn;
typedef Elf32_Sym Sym;
#define ST_TYPE ELF32_ST_TYPE
#define ST_BIND ELF32_ST_BIND
#endif

uintptr_t sysabi_vdso_base(void)
{
	return (uintptr_t)getauxval(AT_SYSINFO_EHDR);
}

uintptr_t sysabi_vdso_sym(const char *name)
{
	uintptr_t base = sysabi_vdso_base();
	if (!base)
		return 0;
	const Ehdr *eh = (const Ehdr *)base;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return 0;
	const Phdr *ph = (const Phdr *)(base + eh->e_phoff);
	/* The image is mapped as one piece; "load offset" turns link-time vaddrs into
	 * run-time addresses (the vDSO is linked at 0 on current kernels). */
	uintptr_t load = 0, dynaddr = 0;
	int have_load = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			load = base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = 1;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dynaddr = ph[i].p_vaddr;
		}
	}
	if (!have_load || !dynaddr)
		return 0;
	const Sym *symtab = 0;
	const char *strtab = 0;
	const uint32_t *hash = 0;
	for (const Dyn *d = (const Dyn *)(load + dynaddr); d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB)
			symtab = (const Sym *)(load + d->d_un.d_ptr);
		else if (d->d_tag == DT_STRTAB)
			strtab = (const char *)(load + d->d_un.d_ptr);
		else if (d->d_tag == DT_HASH)
			hash = (const uint32_t *)(load + d->d_un.d_ptr);
	}
	if (!symtab || !strtab || !hash)
		return 0;
	uint32_t nsyms = hash[1]; /* nchain == number of symbol table entries */
	for (uint32_t i = 0; i < nsyms; i++) {
		const Sym *s = &symtab[i];
		if (s->st_shndx == SHN_UNDEF || ST_TYPE(s->st_info) != STT_FUNC)
			continue;
		if (ST_BIND(s->st_info) != STB_GLOBAL && ST_BIND(s->st_info) != STB_WEAK)
			continue;
		if (strcmp(strtab + s->st_name, name) == 0)
			return load + s->st_value;
	}
	return 0;
}
