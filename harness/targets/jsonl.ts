// `jsonl:CMD`: a target that is a process speaking JSON lines (docs/jsonl-protocol.md), for
// implementations that cannot run an ELF file (a CPU emulator library, a hardware model).
// The harness writes one Case per line and reads one Observation per line, in lockstep; the
// adapter's first line is {"hello": TargetInfo}. A crash, garbage or a silent adapter costs
// the case in flight an 'error' (or 'timeout') observation; the adapter is restarted for the next.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ABIS } from '../../abi/constants.js';
import { REG_NAMES, type Case, type Observation, type RunContext, type Target, type TargetInfo } from '../contracts.js';
import { fromJson, toJson } from '../json.js';
import { splitCommand, whichExecutable } from './emulators.js';
import { registerTarget, TargetUnavailableError, type TargetContext } from './registry.js';

export const JSONL_PROTOCOL_VERSION = 1;

// ------------------------------------------------------------------ strict schemas

// After fromJson every "0x…" string is a bigint; a decimal number where a register belongs
// is rejected, because a double cannot carry 64 bits (DESIGN.md, harness/json.ts).
const big = z.bigint();
const regFile = z.strictObject(Object.fromEntries(REG_NAMES.map((r) => [r, big.optional()])) as Record<(typeof REG_NAMES)[number], z.ZodOptional<z.ZodBigInt>>);
const hexBytes = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'lowercase hex bytes');
const signalInfo = z.strictObject({
  signo: z.number().int(),
  code: z.number().int(),
  errno: z.number().int(),
  addr: big.optional(),
  syscall: z.number().int().optional(),
  arch: z.number().int().optional(),
  regs: regFile,
  trapno: z.number().int().optional(),
  err: big.optional(),
});
const env = z.strictObject({
  pid: big.optional(),
  tid: big.optional(),
  ppid: big.optional(),
  uid: big.optional(),
  gid: big.optional(),
  entry_ip: big.optional(),
  next_ip: big.optional(),
  bufs: z.record(z.string(), big).optional(),
  fds: z.record(z.string(), big).optional(),
  unmapped: big.optional(),
  extra: z.record(z.string(), big).optional(),
});
const observationSchema = z.strictObject({
  id: z.string(),
  outcome: z.enum(['returned', 'signal', 'exited', 'killed', 'timeout', 'error', 'unsupported']),
  reason: z.string().optional(),
  before: regFile,
  after: regFile.optional(),
  signal: signalInfo.optional(),
  traps: z.number().int().nonnegative().optional(),
  delivered: z.array(signalInfo).optional(),
  exit: z.strictObject({ code: z.number().int().optional(), signal: z.number().int().optional() }).optional(),
  memory: z.record(z.string(), hexBytes).optional(),
  env,
  events: z.array(z.looseObject({ kind: z.string() })).optional(),
  steps: z.array(z.string()).optional(),
});
const abiStatus = z.strictObject({ ok: z.boolean(), reason: z.string().optional() });
const helloSchema = z.strictObject({
  hello: z.strictObject({
    protocol: z.literal(JSONL_PROTOCOL_VERSION).optional(),
    name: z.string().min(1),
    version: z.string().min(1),
    profile: z.strictObject({
      name: z.string(),
      kernel: z.string().regex(/^\d+\.\d+(?:\.\d+)?$/, 'kernel "major.minor[.patch]"'),
      vendor: z.enum(['intel', 'amd', 'unknown']),
      ia32: z.boolean(),
      x32: z.boolean(),
      vsyscall: z.enum(['emulate', 'xonly', 'none']),
      fred: z.boolean(),
      features: z.array(z.string()),
    }),
    abis: z.strictObject(Object.fromEntries(ABIS.map((a) => [a, abiStatus])) as Record<(typeof ABIS)[number], typeof abiStatus>),
  }),
});

function issues(e: z.ZodError): string {
  return e.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
}

/** Parse one Observation line strictly; throws a message saying what was wrong. */
export function parseObservationLine(line: string, c: Case): Observation {
  let v: unknown;
  try {
    v = fromJson(line);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message}): ${clip(line)}`);
  }
  const r = observationSchema.safeParse(v);
  if (!r.success) throw new Error(`not an Observation: ${issues(r.error)}: ${clip(line)}`);
  if (r.data.id !== c.id) throw new Error(`answer for "${r.data.id}" while "${c.id}" was asked (the protocol is one answer per case, in order)`);
  return r.data as Observation;
}

/** Parse the adapter's first line, {"hello": TargetInfo}. */
export function parseHelloLine(line: string): TargetInfo {
  let v: unknown;
  try {
    v = fromJson(line);
  } catch (e) {
    throw new Error(`first line is not JSON (${(e as Error).message}): ${clip(line)}`);
  }
  const r = helloSchema.safeParse(v);
  if (!r.success) throw new Error(`first line is not {"hello": TargetInfo}: ${issues(r.error)}: ${clip(line)}`);
  const { protocol: _p, ...info } = r.data.hello;
  return info as TargetInfo;
}

const clip = (s: string, n = 160) => JSON.stringify(s.length > n ? s.slice(0, n) + '…' : s);

// ------------------------------------------------------------------ one adapter process

/** A running adapter: lines in, lines out, with the tail of its stderr for error reasons. */
class Adapter {
  private buf = '';
  private lines: string[] = [];
  private waiter?: (l: string | null) => void;
  private ended = false;
  private stderrTail = '';
  exitDesc?: string;

  constructor(
    private readonly child: ChildProcess,
    private readonly maxLineBytes: number,
  ) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.onData(d));
    child.stdout!.on('end', () => this.onEnd());
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-600);
    });
    child.on('exit', (code, sig) => {
      this.exitDesc = sig ? `killed by ${sig}` : `exited with status ${code}`;
    });
    child.on('error', (e) => {
      this.exitDesc = `could not start: ${e.message}`;
      this.onEnd();
    });
    // EPIPE on a dead adapter's stdin is reported through the missing answer, not thrown.
    child.stdin!.on('error', () => {});
  }

  private onData(d: string) {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      this.push(this.buf.slice(0, nl));
      this.buf = this.buf.slice(nl + 1);
    }
    if (this.buf.length > this.maxLineBytes) {
      this.push(this.buf.slice(0, 200) + `… (a line longer than ${this.maxLineBytes} bytes)`);
      this.buf = '';
    }
  }

  private onEnd() {
    if (this.ended) return;
    this.ended = true;
    if (this.buf) this.push(this.buf);
    this.buf = '';
    this.waiter?.(null);
    this.waiter = undefined;
  }

  private push(l: string) {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(l);
    } else this.lines.push(l);
  }

  /** The next line, null at end of output, 'timeout' after ms. */
  next(ms: number, signal?: AbortSignal): Promise<string | null | 'timeout' | 'aborted'> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    if (this.ended) return Promise.resolve(null);
    return new Promise((res) => {
      const done = (v: string | null | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        res(v);
      };
      const onAbort = () => done('aborted');
      const timer = setTimeout(() => done('timeout'), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = done;
    });
  }

  send(line: string): void {
    if (!this.ended && this.child.stdin!.writable) this.child.stdin!.write(line + '\n');
  }

  /** Why the adapter stopped answering, for an error observation. */
  async why(): Promise<string> {
    // Give 'exit' a moment to arrive after stdout closed.
    for (let i = 0; i < 20 && !this.exitDesc; i++) await new Promise((r) => setTimeout(r, 10));
    const err = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return `${this.exitDesc ?? 'closed its output'}${err ? `; stderr: ${err.slice(-300)}` : ''}`;
  }

  get dead(): boolean {
    return this.ended;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((res) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        res();
      }, 1000);
      this.child.once('exit', () => {
        clearTimeout(t);
        res();
      });
    });
  }
}

// ------------------------------------------------------------------ the target

export interface JsonlTargetOptions {
  /** argv of the adapter. */
  argv: string[];
  /** Name in reports (default `jsonl:<command>`). */
  name?: string;
  /** Time allowed for the hello line (default 10 s). */
  helloTimeoutMs?: number;
  /** Slack on top of each case's timeoutMs (default 2 s). */
  graceMs?: number;
  maxLineBytes?: number;
  cwd?: string;
}

export function createJsonlTarget(o: JsonlTargetOptions): Target & { restarts(): number } {
  const name = o.name ?? `jsonl:${o.argv.join(' ')}`;
  const helloMs = o.helloTimeoutMs ?? 10_000;
  const graceMs = o.graceMs ?? 2000;
  let adapter: Adapter | undefined;
  let info: TargetInfo | undefined;
  let starts = 0;
  // run() calls may overlap (--jobs); the adapter answers one case at a time, so they queue.
  let queue: Promise<unknown> = Promise.resolve();

  async function start(): Promise<Adapter> {
    starts++;
    const child = spawn(o.argv[0]!, o.argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd: o.cwd });
    const a = new Adapter(child, o.maxLineBytes ?? 8 << 20);
    const first = await a.next(helloMs);
    if (first === null || first === 'timeout' || first === 'aborted') {
      await a.stop();
      throw new Error(`${name}: no {"hello": …} line within ${helloMs} ms (${first === null ? await a.why() : 'silent'})`);
    }
    try {
      const hello = parseHelloLine(first);
      info ??= hello;
    } catch (e) {
      await a.stop();
      throw new Error(`${name}: ${(e as Error).message}`);
    }
    return a;
  }

  async function ensure(): Promise<Adapter> {
    if (!adapter || adapter.dead) adapter = await start();
    return adapter;
  }

  async function runOne(c: Case, ctx: RunContext): Promise<Observation> {
    let a: Adapter;
    try {
      a = await ensure();
    } catch (e) {
      return failed(c, 'error', (e as Error).message);
    }
    a.send(toJson(c));
    const limit = c.timeoutMs + graceMs;
    const line = await a.next(limit, ctx.signal);
    if (line === 'aborted') {
      adapter = undefined;
      await a.stop();
      return failed(c, 'error', 'run interrupted');
    }
    if (line === 'timeout') {
      // The adapter may still answer later and would shift every answer by one: restart it.
      adapter = undefined;
      await a.stop();
      return failed(c, 'timeout', `${name} gave no answer within ${limit} ms (case limit ${c.timeoutMs} ms + ${graceMs} ms grace); adapter restarted`);
    }
    if (line === null) {
      adapter = undefined;
      return failed(c, 'error', `${name} stopped before answering: ${await a.why()}`);
    }
    try {
      return parseObservationLine(line, c);
    } catch (e) {
      adapter = undefined;
      await a.stop();
      return failed(c, 'error', `${name} answered garbage: ${(e as Error).message}; adapter restarted`);
    }
  }

  const t: Target & { restarts(): number } = {
    name,
    restarts: () => Math.max(0, starts - 1),
    async describe(): Promise<TargetInfo> {
      if (!info) adapter = await ensure();
      return { ...info!, name };
    },
    run(cases: readonly Case[], ctx: RunContext = {}): Promise<Observation[]> {
      const job = queue.then(async () => {
        const out: Observation[] = [];
        for (const c of cases) {
          const obs = ctx.signal?.aborted ? failed(c, 'error', 'run interrupted') : await runOne(c, ctx);
          ctx.onObservation?.(obs);
          out.push(obs);
        }
        return out;
      });
      queue = job.catch(() => {});
      return job;
    },
    async close() {
      await queue;
      const a = adapter;
      adapter = undefined;
      await a?.stop();
    },
  };
  return t;
}

function failed(c: Case, outcome: 'error' | 'timeout', reason: string): Observation {
  return { id: c.id, outcome, reason, before: {}, env: {} };
}

/** `jsonl:CMD` from the command line; a missing program is a SKIP of the target. */
export function createJsonlTargetFromSpec(cmd: string, ctx: TargetContext = {}): Target {
  const argv = splitCommand(cmd);
  if (!argv.length) throw new Error('jsonl: needs a command, e.g. jsonl:node docs/examples/jsonl-echo-kernel.mjs');
  const prog = argv[0]!;
  const found = prog.includes('/') ? existsSync(resolve(ctx.cwd ?? process.cwd(), prog)) : whichExecutable(prog) !== undefined;
  if (!found) throw new TargetUnavailableError(`jsonl:${cmd} not available: ${argv[0]} is not installed or not on PATH`);
  return createJsonlTarget({ argv, name: `jsonl:${cmd}`, cwd: ctx.cwd });
}

registerTarget('jsonl', {
  summary: 'CMD speaking JSON lines: Cases in, Observations out (docs/jsonl-protocol.md)',
  paramRequired: true,
  create: async (p, ctx) => createJsonlTargetFromSpec(p!, ctx),
});
