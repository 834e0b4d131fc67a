/* vDSO lookups for the probe (vdso.c): base from AT_SYSINFO_EHDR, symbols by name. */
#ifndef SYSABI_VDSO_H
#define SYSABI_VDSO_H
#include <stdint.h>
uintptr_t sysabi_vdso_base(void);
/* Run-time address of a global function in the vDSO, or 0 if there is none. */
uintptr_t sysabi_vdso_sym(const char *name);
#endif
