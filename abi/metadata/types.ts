// The shape of the generated metadata table (abi/metadata/syscalls.ts), kept apart so the
// generated module imports a type only.

/** name → [x86_64 nr or null, [[arg name, C type], ...], has a sys_exit event]. */
export type SyscallMetaTable = Readonly<Record<string, readonly [number | null, readonly (readonly [string, string])[], boolean]>>;
