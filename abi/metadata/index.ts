// Lookups in the committed SYSCALL_METADATA table (abi/metadata/syscalls.ts, made by gen.ts
// from a real kernel's tracefs event formats): the argument names and C types of a syscall,
// by name or by x86_64 number. `sysabi explain` names arguments with it; the simulator's ftrace
// model records as many arguments as the metadata declares (kernel/trace/trace_syscalls.c
// ftrace_syscall_enter copies sys_data->nb_args of them).

import type { SyscallArg } from './format.js';
import { METADATA, METADATA_KERNEL } from './syscalls.js';

export type { SyscallArg } from './format.js';
export { METADATA_KERNEL };

export interface SyscallMeta {
  /** The SYSCALL_DEFINE name (the event is sys_enter_<name>). */
  name: string;
  /** x86_64 number, null when the x86_64 table has no row for it. */
  nr: number | null;
  args: readonly SyscallArg[];
  exit: boolean;
}

const BY_NAME = new Map<string, SyscallMeta>();
const BY_NR = new Map<number, SyscallMeta>();
for (const [name, [nr, args, exit]] of Object.entries(METADATA)) {
  const m: SyscallMeta = Object.freeze({ name, nr, args: Object.freeze(args.map(([n, t]) => Object.freeze({ name: n, type: t }))), exit });
  BY_NAME.set(name, m);
  if (nr !== null && !BY_NR.has(nr)) BY_NR.set(nr, m);
}

/** Metadata by SYSCALL_DEFINE name ("pread64", "newfstat"). */
export function metaOf(name: string): SyscallMeta | undefined {
  return BY_NAME.get(name);
}

/** The arguments of a syscall by name, or undefined when the table has no such syscall. */
export function argsOf(name: string): readonly SyscallArg[] | undefined {
  return BY_NAME.get(name)?.args;
}

/** Metadata of the x86_64 syscall with this number (syscall_nr_to_meta), if the kernel traced it. */
export function metaOfX64Nr(nr: number): SyscallMeta | undefined {
  return BY_NR.get(nr);
}

/** Every name in the table. */
export function metadataNames(): string[] {
  return [...BY_NAME.keys()];
}

/**
 * Metadata for a syscall table row: by its entry point (sys_newfstat → newfstat; ia32 rows'
 * compat_sys_X / ia32_sys_X → X, whose native definition names the same arguments), then by
 * the row's name. Only x86_64 syscalls are traced with these names; for other tables this is
 * a best-effort naming for display.
 */
export function metaForRow(row: { name: string; entry: string | null; compatEntry?: string | null }): SyscallMeta | undefined {
  for (const e of [row.entry, row.compatEntry]) {
    if (!e) continue;
    const m = /^(?:compat_sys_|ia32_sys_|sys_)(.+)$/.exec(e);
    const hit = m ? BY_NAME.get(m[1]!) : undefined;
    if (hit) return hit;
  }
  return BY_NAME.get(row.name);
}
