/* Auxiliary-vector and memory-map observations (VD-01, VD-04; probes/maps.c): the AT_* entries
 * the kernel gave this process at exec, and the kernel's named special mappings of
 * /proc/self/maps after a case's call. */
#ifndef SYSABI_MAPS_H
#define SYSABI_MAPS_H
#include <stddef.h>

/* Case.observe bits (protocol line `observe auxv,maps`). */
#define OBS_AUXV 1
#define OBS_MAPS 2

/* Copy the auxiliary vector, found right after the NULL that ends envp on the initial stack
 * (fs/binfmt_elf.c create_elf_tables lays out argv, envp, auxv in that order). Call first
 * thing in main, before anything can replace `environ`. */
void sysabi_auxv_save(char **envp);
/* `,"auxv":{"AT_PAGESZ":"0x1000",...}` into out (NUL-terminated); returns its length, 0 if it
 * did not fit or nothing was saved. */
size_t sysabi_auxv_json(char *out, size_t n);
/* `,"maps":[{"name":"[vdso]","start":"0x...","end":"0x...","perms":"r-xp"},...]`: every line
 * of /proc/self/maps whose name is in brackets, in file order. Returns the length, or 0 when
 * the file cannot be read (the observation then has no `maps`: "not reported"). */
size_t sysabi_maps_json(char *out, size_t n);

#endif
