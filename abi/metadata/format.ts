// Parsing of tracefs event format files (events/syscalls/sys_enter_<name>/format), which is
// how a kernel built with CONFIG_FTRACE_SYSCALLS publishes each syscall's SYSCALL_DEFINEn
// metadata: the argument names and C types, in order, after the `__syscall_nr` field
// (kernel/trace/trace_syscalls.c syscall_enter_define_fields; the format text itself is
// printed by kernel/trace/trace_events.c f_show). Pure functions: gen.ts reads the files.

/** One `field:TYPE NAME; offset:N; size:N; signed:N;` line. */
export interface FormatField {
  /** C type as printed, e.g. "unsigned int", "const char *". */
  type: string;
  name: string;
  offset: number;
  size: number;
  signed: boolean;
}

export interface EventFormat {
  /** Event name, e.g. sys_enter_pread64. */
  name: string;
  /** Event id (the trace record's common_type), not the syscall number. */
  id: number;
  /** common_* fields (before the blank line). */
  common: FormatField[];
  /** The event's own fields: `__syscall_nr` then the arguments (enter) or `ret` (exit). */
  fields: FormatField[];
  printFmt: string;
}

/** A syscall's arguments as SYSCALL_METADATA declares them. */
export interface SyscallArg {
  name: string;
  type: string;
}

const FIELD_RE = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);?\s*$/;

/** "unsigned int fd" → {type, name}; "char comm[16]" keeps the brackets in the type. */
function splitDecl(decl: string): { type: string; name: string } {
  const m = /^(.*?)([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?\s*$/.exec(decl.trim());
  if (!m || m[1]!.trim() === '') throw new Error(`cannot split "${decl}" into a C type and a name`);
  return { type: (m[1]!.trim() + (m[3] ?? '')).replace(/\s+\*/g, ' *').trim(), name: m[2]! };
}

/** Parse one format file's text. Throws with the line at fault when the text is not one. */
export function parseFormat(text: string): EventFormat {
  const lines = text.split('\n');
  let name: string | undefined;
  let id: number | undefined;
  let printFmt = '';
  const common: FormatField[] = [];
  const fields: FormatField[] = [];
  let inFormat = false;
  let blankSeen = false;
  lines.forEach((line, i) => {
    if (line.startsWith('name:')) { name = line.slice(5).trim(); return; }
    if (line.startsWith('ID:')) {
      const v = Number(line.slice(3).trim());
      if (!Number.isInteger(v)) throw new Error(`line ${i + 1}: ID is not a number: ${JSON.stringify(line)}`);
      id = v;
      return;
    }
    if (line.startsWith('format:')) { inFormat = true; return; }
    if (line.startsWith('print fmt:')) { printFmt = line.slice(10).trim(); inFormat = false; return; }
    if (!inFormat) return;
    // The common fields and the event's own are separated by one empty line.
    if (line.trim() === '') { if (common.length > 0) blankSeen = true; return; }
    const m = FIELD_RE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: expected "field:TYPE NAME; offset:N; size:N; signed:N;", found ${JSON.stringify(line)}`);
    const { type, name: fname } = splitDecl(m[1]!);
    const f: FormatField = { type, name: fname, offset: Number(m[2]), size: Number(m[3]), signed: m[4] === '1' };
    (blankSeen ? fields : common).push(f);
  });
  if (name === undefined) throw new Error('no "name:" line: not a tracefs event format file');
  if (id === undefined) throw new Error(`${name}: no "ID:" line`);
  return { name, id, common, fields, printFmt };
}

/** The arguments of a sys_enter_* format: every field after `__syscall_nr`, in order. */
export function enterArgs(f: EventFormat): SyscallArg[] {
  if (!f.name.startsWith('sys_enter_')) throw new Error(`${f.name} is not a sys_enter_* event`);
  const [nr, ...rest] = f.fields;
  if (!nr || nr.name !== '__syscall_nr') throw new Error(`${f.name}: the first field is ${nr ? nr.name : 'missing'}, expected __syscall_nr`);
  // Newer kernels may append dynamic (__data_loc) fields holding copied user strings; they
  // are not arguments (the arguments are the fixed 8-byte slots of syscall_trace_enter.args).
  return rest.filter((a) => !a.type.startsWith('__data_loc')).map((a) => ({ name: a.name, type: a.type }));
}

/** A sys_exit_* format holds `__syscall_nr` and `long ret`; returns the ret field's type. */
export function exitRetType(f: EventFormat): string {
  if (!f.name.startsWith('sys_exit_')) throw new Error(`${f.name} is not a sys_exit_* event`);
  const ret = f.fields.find((x) => x.name === 'ret');
  if (!ret) throw new Error(`${f.name}: no ret field`);
  return ret.type;
}
