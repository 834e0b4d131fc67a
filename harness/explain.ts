// explainCase(): one expanded case in plain words — ABI, entry, number and its name, each
// register input, flags, memory, the expectations as sentences, requirements and refs.
// This is what `sysabi explain <case id>` prints.

import { lookupNumber } from '../abi/tables/index.js';
import type { Abi, Operand } from './contracts.js';
import { describeMatcher, signalName, wantedOutcome } from './check.js';
import { hex } from './json.js';
import { callSignature } from './ftrace/signature.js';
import type { ExpandedCase, Expectation, Requires } from './spec/types.js';

const ENTRY_WORDS: Record<string, string> = {
  syscall: 'the SYSCALL instruction',
  int80: 'int $0x80',
  sysenter: 'a raw SYSENTER',
  vdso: '__kernel_vsyscall (call *AT_SYSINFO)',
  vdso_fn: 'a call of a vDSO function',
  vsyscall: 'a call into the vsyscall page',
  sigreturn: 'rt_sigreturn with an edited signal frame',
  exec: 'execve of a fresh static program',
};

/** An input operand in words: "0x5a5a000000000101", "address of buffer b + 8", "fd null". */
export function describeOperand(o: Operand): string {
  let s: string;
  switch (o.ref) {
    case undefined: s = hex(o.lit ?? 0n); break;
    case 'buf': s = `address of buffer ${o.name}`; break;
    case 'fd': s = `descriptor ${o.name}${o.name === 'null' ? ' (/dev/null)' : ''}`; break;
    case 'unmapped': s = 'an unmapped address'; break;
    case 'rflags_in': s = 'the RFLAGS value loaded before the entry'; break;
    default: s = `the process's ${o.ref}`;
  }
  if (o.ref !== undefined && o.add) s += o.add < 0n ? ` - ${hex(-o.add)}` : ` + ${hex(o.add)}`;
  if (o.or) s += ` | ${hex(o.or)}`;
  return s;
}

function tableOf(ec: ExpandedCase): Abi {
  const c = ec.case;
  return c.entry === 'int80' || c.entry === 'sysenter' || c.entry === 'vdso' || c.code === 'compat' ? 'i386' : c.abi;
}

function expectationLines(e: Expectation, bitsOf: 32 | 64, indent: string): string[] {
  const out: string[] = [];
  const outcome = wantedOutcome(e);
  const words: Record<string, string> = {
    returned: 'control returns to the instruction after the entry',
    signal: 'a synchronous signal stops the case',
    killed: 'the (isolated) case process is killed by a signal',
    exited: 'the (isolated) case process exits',
  };
  out.push(`${indent}- ${words[outcome]}${e.outcome ? '' : ' (implied)'}`);
  for (const r of e.regs) {
    const name = r.field === 'ret' ? `the return value (${r.bits === 32 ? 'eax' : 'rax'})` : r.field;
    out.push(`${indent}- ${name} is ${describeMatcher(r.m, r.bits)}${r.bits !== 64 ? ` (low ${r.bits} bits compared)` : ''}`);
  }
  if (e.preserved) out.push(`${indent}- unchanged across the call (${e.preserved.text}): ${e.preserved.regs.join(', ')}`);
  if (e.flags) {
    if (e.flags.set.length) out.push(`${indent}- RFLAGS afterwards has ${e.flags.set.join(', ')} set`);
    if (e.flags.clear.length) out.push(`${indent}- RFLAGS afterwards has ${e.flags.clear.join(', ')} clear`);
  }
  if (e.signal) {
    for (const f of e.signal.fields) {
      const d = f.field === 'signo' && f.m.kind === 'eq' && 'lit' in f.m.v ? signalName(Number(f.m.v.lit)) : describeMatcher(f.m, f.field === 'addr' ? bitsOf : 32);
      out.push(`${indent}- the signal's ${f.field} is ${d}`);
    }
    for (const r of e.signal.regs) out.push(`${indent}- in the signal's register frame, ${r.field} is ${describeMatcher(r.m, r.bits)}`);
  }
  if (e.killed) out.push(`${indent}- the process dies of ${e.killed.name}`);
  if (e.exitCode) out.push(`${indent}- the exit status is ${describeMatcher(e.exitCode, 32)}`);
  if (e.traps) out.push(`${indent}- the number of single-step SIGTRAPs is ${describeMatcher(e.traps, 32)}`);
  if (e.delivered) out.push(`${indent}- record handlers see, in order: ${e.delivered.map((d) => d.name).join(', ') || 'nothing'}`);
  for (const m of e.memory ?? []) out.push(`${indent}- buffer ${m.name} starts with ${m.text !== undefined ? JSON.stringify(m.text) : m.hex}`);
  return out;
}

export function describeRequires(r: Requires): string[] {
  const out: string[] = [];
  if (r.kernel?.length) out.push(`kernel ${r.kernel.map((k) => k.text).join(' ')}`);
  if (r.vendor) out.push(`${r.vendor === 'amd' ? 'AMD' : 'Intel'} CPU`);
  if (r.ia32 !== undefined) out.push(r.ia32 ? 'ia32 emulation enabled' : 'ia32 emulation disabled');
  if (r.x32 !== undefined) out.push(r.x32 ? 'x32 syscalls configured' : 'no x32 syscalls');
  if (r.vsyscall) out.push(`vsyscall=${r.vsyscall.join(' or ')}`);
  if (r.fred !== undefined) out.push(r.fred ? 'FRED' : 'no FRED');
  if (r.features?.length) out.push(`features: ${r.features.join(', ')}`);
  if (r.destructive) out.push('--destructive');
  return out;
}

/** The resolved case and its expectations, as text for people. */
export function explainCase(ec: ExpandedCase): string {
  const c = ec.case;
  const bits: 32 | 64 = c.code === 'compat' ? 32 : 64;
  const L: string[] = [];
  L.push(`${c.id}`);
  L.push(`  spec:   ${ec.spec.id} — ${ec.spec.title} (${ec.spec.file}:${ec.line})`);
  L.push(`  case:   ${ec.name}${ec.vary ? `  [${Object.entries(ec.vary).map(([k, v]) => `${k}=${v}`).join(', ')}]` : ''}`);
  L.push(`  what:   ${ec.spec.description.replace(/\s+/g, ' ')}`);
  if (ec.skipReason) L.push(`  SKIPPED on ${c.abi}: ${ec.skipReason}`);
  L.push('');
  L.push(`ABI ${c.abi}, ${bits}-bit code${c.code === 'compat' && c.abi !== 'i386' ? ' (a far call into compatibility mode)' : ''}, entering through ${ENTRY_WORDS[c.entry] ?? c.entry}.`);
  const table = tableOf(ec);
  if (c.entry === 'vdso_fn') L.push(`Calls vDSO symbol ${c.symbol}.`);
  else if (c.entry === 'vsyscall') L.push(`Calls the vsyscall page at ${hex(c.vsyscallAddr ?? 0n)}.`);
  if (c.regs.rax !== undefined || c.callName) {
    const low = BigInt.asIntN(32, BigInt.asUintN(32, c.nr));
    const row = lookupNumber(table, low);
    const name = c.callName ?? row?.name;
    L.push(`Syscall number ${hex(c.nr)}${name ? ` — ${name} in the ${table} table` : ` — no syscall of that number in the ${table} table`}${c.nr !== BigInt.asUintN(64, low) && bits === 64 ? ` (the kernel uses the low 32 bits, ${low})` : ''}.`);
  }
  // The call with SYSCALL_METADATA's argument names (abi/metadata): pread64(fd=fd:f, buf=buf:b, ...).
  const sigRow = c.regs.rax !== undefined || c.callName ? lookupNumber(table, BigInt.asIntN(32, BigInt.asUintN(32, c.nr))) : undefined;
  const sig = sigRow ? callSignature(sigRow, c, table === 'i386') : undefined;
  if (sig) L.push(`As C: ${sig}.`);
  const regs = Object.entries(c.regs).filter(([r]) => r !== 'rax');
  if (regs.length) {
    // 32-bit code sees only the low halves: name them as its author would (ebx, not rbx).
    L.push(`Registers before the entry${bits === 32 ? ' (32-bit code: the low halves)' : ''}:`);
    for (const [r, o] of regs) L.push(`  ${(bits === 32 && /^r[a-ds][xip]$|^r[sd]i$|^rbp$/.test(r) ? 'e' + r.slice(1) : r).padEnd(4)} = ${describeOperand(o!)}`);
  }
  L.push(`RFLAGS loaded: ${hex(c.rflags)}${c.flags.length ? ` (0x202 with ${c.flags.join(', ')})` : ''}.`);
  for (const m of c.memory) {
    L.push(`Buffer ${m.name}: ${m.size} bytes, ${m.prot}, ${m.at !== undefined ? `at ${hex(m.at)}` : m.place}${m.hex ? `, starting with ${m.hex.length > 32 ? m.hex.slice(0, 32) + '…' : m.hex}` : ''}${m.fill ? `, filled with ${hex(BigInt(m.fill))}` : ''}${m.readback ? ', read back afterwards' : ''}.`);
  }
  for (const f of c.fds) L.push(`Descriptor ${f.name}: ${f.kind === 'pipe' ? `a pipe (${f.name}.r, ${f.name}.w)` : f.kind}${f.hex ? ` holding ${f.hex.length / 2} bytes` : ''}.`);
  const acts = Object.entries(c.signals.actions);
  if (acts.length) L.push(`Signal set-up: ${acts.map(([n, a]) => `${signalName(Number(n))} → ${a}${c.signals.restart?.includes(Number(n)) ? ' (SA_RESTART)' : ''}`).join(', ')}.`);
  if (c.signals.blocked.length) L.push(`Blocked during the call: ${c.signals.blocked.map(signalName).join(', ')}.`);
  (c.setup ?? []).forEach((s, i) => L.push(`Set-up call ${i + 1}, before the call under test${s.entry === 'int80' ? ' (int $0x80)' : ''}: ${s.name}(${s.args.map(describeOperand).join(', ')}), which must ${s.expectErrno === undefined ? 'not fail' : `fail with errno ${s.expectErrno}`}.`));
  if (c.sigreturn) L.push(`Signal frame edits: ${Object.entries(c.sigreturn).map(([r, o]) => `${r} = ${describeOperand(o!)}`).join(', ')}.`);
  if (c.placeNextIp !== undefined) L.push(`The entry instruction is placed so the next instruction is at ${hex(c.placeNextIp)}.`);
  L.push(`Runs ${c.isolate ? 'in a forked child (isolated)' : 'in the probe process'}; time limit ${c.timeoutMs} ms.`);
  L.push('');
  L.push('Expected:');
  const e = ec.expect;
  L.push(...expectationLines({ ...e, anyOf: undefined }, bits, '  '));
  if (e.anyOf?.length) {
    L.push('  and at least one of:');
    e.anyOf.forEach((a, i) => {
      L.push(`   (${i + 1})${a.why ? ` ${a.why}` : ''}`);
      L.push(...expectationLines(a.exp, bits, '      ').filter((l) => !l.includes('(implied)')));
    });
  }
  if (e.ftrace) {
    L.push(e.ftrace.length ? '  ftrace syscall events of the call, exactly:' : '  no ftrace syscall event from the call');
    for (const f of e.ftrace) L.push(`    ${f.event}${f.name ? ` ${f.name}` : ''}${f.fields.length ? `: ${f.fields.map((x) => `${x.field} ${describeMatcher(x.m, 64)}`).join(', ')}` : ''}`);
  }
  const req = describeRequires(ec.requires);
  L.push('');
  L.push(`Requires: ${req.length ? req.join('; ') : 'nothing beyond the ABI'}.`);
  if (ec.spec.covers.length) L.push(`Covers: ${ec.spec.covers.join(', ')} (ABI-FACTS §8).`);
  L.push('Refs:');
  for (const r of ec.spec.refs) L.push(`  ${r.kind}: ${r.text}`);
  return L.join('\n') + '\n';
}
