#!/usr/bin/env node
// The `sysabi` command: run, list, lint, explain, tables. Exit codes: 0 nothing unexpected,
// 1 an unexpected result, 2 a usage or spec error (printed as file:line:col, never a stack).
// Only node: built-ins are imported up front so `sysabi --version` starts fast; everything
// heavy (zod, yaml, targets, reports) is imported by the command that needs it.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage mistake: message on stderr, exit 2. */
class UsageError extends Error {}

type Out = (s: string) => void;
const out: Out = (s) => void process.stdout.write(s.endsWith('\n') ? s : s + '\n');
const err: Out = (s) => void process.stderr.write(s.endsWith('\n') ? s : s + '\n');
/** A printer other commands can call as `f(line)` or `f.write(text)` (both styles are in use). */
type Sink = Out & { write(s: string): void };
const sink = (stream: NodeJS.WriteStream): Sink => Object.assign((s: string) => void stream.write(s.endsWith('\n') ? s : s + '\n'), { write: (s: string) => void stream.write(s) });

function findRoot(): string {
  // dist/harness/cli.js or harness/cli.ts → the directory holding package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sysabi') return dir;
    } catch {
      /* keep walking up */
    }
    dir = dirname(dir);
  }
  return process.cwd();
}
const ROOT = findRoot();

function version(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const MAIN_HELP = `sysabi — conformance suite for the Linux x86 system-call ABI (x86_64, i386, x32)

Usage: sysabi <command> [options]

Commands:
  run [specs|ids]     run specs on targets, print TAP (default: every spec, default targets)
  list                list specs and case ids (--coverage: ABI-FACTS catalogue coverage)
  lint [specs]        check spec files without running them
  explain <case id>   the resolved case and its expectations in plain words (--trace: step it on the sim)
  tables ...          syscall table rows by name or number (sysabi tables --help)
  diff --targets A,B  run the same cases on two targets, list every differing field
  fuzz --seed S       random safe cases on two targets; disagreements minimised into spec files
  expectations update write a target's expectation file from a run's results.json
  merge FILES         merge results.json files (CI shards) into one report

Options: --help (also per command: sysabi run --help, or sysabi help run), --version

Start with: sysabi list (every case id), sysabi run <id> (one case on every default
target), sysabi explain <id> --trace (what it does and why, step by step).
Docs: README.md and docs/README.md in the package.

Exit codes: 0 nothing unexpected, 1 an unexpected result (fail, xpass, error),
2 a usage or spec error, 130 interrupted (Ctrl-C; what ran is still reported).
With --format ktap: 0 pass, 1 fail, 4 everything skipped (kselftest).
`;

const RUN_HELP = `Usage: sysabi run [specs|ids ...] [options]

Operands are spec files or directories (default: the package's specs/), or ids:
a case id 'entry.syscall64.clobbers/getpid@x86_64', a case without ABI
'entry.syscall64.clobbers/getpid', a spec id 'entry.syscall64.clobbers', an id prefix
'entry' (entry.*), or a glob over case ids 'entry.*@i386'.

Options:
  -t, --target LIST     targets, comma-separated or repeated; default (what make check runs):
${'${DEFAULT_TARGETS}'}
                        sim[:PROFILE]  the reference simulator; bare 'sim' is ${'${DEFAULT_SIM}'};
                                       PROFILE is one of:
${'${SIM_PROFILES}'}
                        native         the running kernel through the probes (x86-64 Linux)
                        module:PATH    a JS/TS module exporting createTarget() or a Target
                        qemu           qemu-user (qemu-x86_64, qemu-i386) running the probes
                        valgrind       valgrind --tool=none -q running the x86_64 probe
                        gvisor         runsc --network=none --platform=ptrace do (as root)
                        exec:CMD       any wrapper; {probe} = probe path, {abi} = its ABI
                        jsonl:CMD      a process speaking JSON lines (docs/jsonl-protocol.md)
  -a, --abi LIST        only these ABIs: x86_64,i386,x32
  -g, --grep RE         only case ids matching the regular expression
      --tag T           only specs with this tag (repeatable)
  -f, --format F        stdout format: tap (TAP 14, default), ktap (KTAP v1), json
  -o, --out DIR         also write DIR/<run id>/: <target>.tap, results.json, junit.xml,
                        matrix.html, matrix.md
  -j, --jobs N          batches in flight per target (default 2)
      --shard i/n       run the i-th of n round-robin shards of the selected cases
      --sim-profile P   the profile a bare 'sim' stands for (default ${'${DEFAULT_SIM}'})
      --expectations D  directory of per-target expectation files (default suites/expectations)
      --destructive     also run cases that change state outside their process
      --probe-dir D     compiled probes for native/wrapped targets (default probes/build)
  -q, --quiet           no progress line on stderr
`;

const LIST_HELP = `Usage: sysabi list [specs|ids ...] [--abi LIST] [--grep RE] [--tag T] [--coverage] [--json]

Lists specs (id, title, file) and their case ids. --coverage shows, for every ABI-FACTS
catalogue id, the specs that cover it (and which ids no spec covers yet).
`;

const LINT_HELP = `Usage: sysabi lint [specs ...] [--strict]

Loads and validates every spec (default: the package's specs/) without running anything.
Errors are printed as file:line:col; exit 2 when there is any. The corpus's metadata rules
(an opening comment, title and description bounds, the id under its area, checkable refs;
docs/spec-language.md "Metadata") apply to the package's specs/; --strict applies them to
every spec given.
`;

const EXPLAIN_HELP = `Usage: sysabi explain <case id> [--trace] [--sim-profile P] [--specs PATH ...]

Prints the resolved case (ABI, entry, number, registers, memory) and what the spec expects,
in plain words. --trace runs the case on the simulator and prints each step it took, then
the check's verdict. --specs loads specs from PATH instead of the package's specs/.
`;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function parse(args: string[], options: ParseArgsConfig['options'], help: string): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    // Node's message adds a hint about '--' for positionals (with a stray quote); the option
    // name is what the user needs.
    const msg = (e as Error).message.replace(/\. To specify a positional argument[^]*$/, '');
    throw new UsageError(`${msg}\n\n${help}`);
  }
}

/** A comma-separated list wrapped to 92 columns, each line indented by `indent` spaces. */
function wrapList(items: readonly string[], indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const [i, it] of items.entries()) {
    const word = it + (i < items.length - 1 ? ',' : '');
    if (line && indent + line.length + 1 + word.length > 92) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l).join('\n');
}

function splitList(v: string | string[] | undefined): string[] {
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
}

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name} "${v}": expected a positive integer`);
  return Number(v);
}

const ABI_NAMES = ['x86_64', 'i386', 'x32'] as const;
type AbiName = (typeof ABI_NAMES)[number];

function parseAbis(v: string | string[] | undefined): AbiName[] | undefined {
  const l = splitList(v);
  for (const a of l) if (!(ABI_NAMES as readonly string[]).includes(a)) throw new UsageError(`--abi "${a}": expected one of ${ABI_NAMES.join(', ')}`);
  return l.length ? (l as AbiName[]) : undefined;
}

function parseGrep(v: string | undefined): RegExp | undefined {
  if (v === undefined) return undefined;
  try {
    return new RegExp(v);
  } catch (e) {
    throw new UsageError(`--grep "${v}": not a regular expression (${(e as Error).message})`);
  }
}

/**
 * `--target module:my-target.ts` from the compiled CLI: Node 20 cannot import TypeScript, so
 * tsx's loader (already a dependency of the repository's tests) is registered first. When the
 * CLI already runs under tsx, or no module target is a .ts file, nothing happens.
 */
async function allowTypeScriptModules(targets: readonly string[]): Promise<void> {
  if (!targets.some((t) => /^module:.*\.[cm]?tsx?$/.test(t.trim()))) return;
  if (import.meta.url.endsWith('.ts')) return;
  try {
    const api = (await import('tsx/esm/api' as string)) as { register(): unknown };
    api.register();
  } catch {
    throw new UsageError('a TypeScript module target needs tsx (npm install in the sysabi checkout), or compile the module to .js');
  }
}

/** Load + expand specs; spec errors are printed as file:line:col and end the command with 2. */
async function loadOrExit(operands: string[]) {
  const run = await import('./run.js');
  const { paths, ids } = run.splitOperands(operands);
  const loaded = await run.loadCases(paths.length ? paths : [join(ROOT, 'specs')]);
  if (loaded.errors.length) {
    for (const e of loaded.errors) err(loaded.format(e));
    err(`sysabi: ${loaded.errors.length} spec error${loaded.errors.length > 1 ? 's' : ''}; nothing was run`);
    return { run, loaded, ids, failed: true as const };
  }
  return { run, loaded, ids, failed: false as const };
}

async function cmdRun(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    args,
    {
      target: { type: 'string', short: 't', multiple: true },
      abi: { type: 'string', short: 'a', multiple: true },
      grep: { type: 'string', short: 'g' },
      tag: { type: 'string', multiple: true },
      format: { type: 'string', short: 'f', default: 'tap' },
      out: { type: 'string', short: 'o' },
      jobs: { type: 'string', short: 'j' },
      shard: { type: 'string' },
      'sim-profile': { type: 'string' },
      expectations: { type: 'string' },
      destructive: { type: 'boolean' },
      'probe-dir': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
    // A usage error prints this before the registry is loaded (kept lazy for start-up time):
    // the lists are named, not filled in.
    RUN_HELP.replace('${DEFAULT_TARGETS}', '                        (listed by sysabi run --help)')
      .replace('${SIM_PROFILES}', '                                       (listed by sysabi run --help)')
      .replaceAll('${DEFAULT_SIM}', 'the default profile'),
  );
  const registry = await import('./targets/registry.js');
  await import('./targets/emulators.js'); // registers qemu, valgrind, gvisor, exec:CMD
  await import('./targets/jsonl.js'); // registers jsonl:CMD
  if (v.help) {
    out(RUN_HELP.replace('${DEFAULT_TARGETS}', wrapList(registry.defaultTargets(), 24)).replace('${SIM_PROFILES}', wrapList(registry.SIM_PROFILES, 39)).replaceAll('${DEFAULT_SIM}', registry.DEFAULT_SIM_PROFILE));
    return 0;
  }
  const format = String(v.format);
  if (!['tap', 'ktap', 'json'].includes(format)) throw new UsageError(`--format "${format}": expected tap, ktap or json`);
  const abis = parseAbis(v.abi as string[] | undefined);
  const grep = parseGrep(v.grep as string | undefined);
  const jobs = positiveInt('--jobs', v.jobs as string | undefined, 2);
  const tctx = {
    simProfile: v['sim-profile'] as string | undefined,
    probeDir: (v['probe-dir'] as string | undefined) ?? join(ROOT, 'probes', 'build'),
    cwd: process.cwd(),
  };
  const targetSpecs = splitList(v.target as string[] | undefined);
  const targets = targetSpecs.length ? targetSpecs : registry.defaultTargets();
  const names = new Set<string>();
  for (const t of targets) {
    let name: string;
    try {
      name = registry.parseTargetSpec(t, tctx).name;
    } catch (e) {
      throw new UsageError(`--target: ${(e as Error).message}`);
    }
    // A misspelt profile would otherwise turn every case into an error; say so up front.
    const profile = /^sim:(.+)$/.exec(name)?.[1];
    if (profile !== undefined && !registry.SIM_PROFILES.includes(profile)) {
      const { didYouMean } = await import('./spec/errors.js');
      throw new UsageError(`--target: unknown sim profile "${profile}"${didYouMean(profile, registry.SIM_PROFILES)}; expected one of ${registry.SIM_PROFILES.join(', ')}`);
    }
    if (names.has(name)) throw new UsageError(`--target: "${name}" is named twice`);
    names.add(name);
  }
  await allowTypeScriptModules(targets);
  const { run, loaded, ids, failed } = await loadOrExit(positionals);
  if (failed) return 2;
  let shard;
  try {
    shard = v.shard === undefined ? undefined : run.parseShard(String(v.shard));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const tags = splitList(v.tag as string[] | undefined);
  const { cases, unmatched } = run.selectCases(loaded.cases, { ids, abis, grep, tags, shard });
  if (unmatched.length) {
    const { noMatchMessage } = await import('./suggest.js');
    throw new UsageError(noMatchMessage(unmatched, loaded.cases.map((c) => c.case.id)));
  }
  if (!cases.length) err('sysabi: warning: the selection is empty; nothing to run');

  const { createProgress } = await import('./report/progress.js');
  const progress = v.quiet ? createProgress({ isTTY: false } as NodeJS.WriteStream) : createProgress();
  // First Ctrl-C: stop starting batches and report what ran (the rest become errors); a
  // second one kills the process as usual.
  const ac = new AbortController();
  const onInt = () => {
    err('\nsysabi: interrupted; finishing the batches in flight (Ctrl-C again to kill)');
    ac.abort();
    process.removeListener('SIGINT', onInt);
  };
  process.on('SIGINT', onInt);
  let report;
  try {
    report = await run.runAll(
      cases,
      {
        targets,
        targetContext: tctx,
        expectationsDir: v.expectations as string | undefined,
        jobs,
        destructive: Boolean(v.destructive),
        signal: ac.signal,
        onTargetStart: (n, total) => progress.targetStart(n, total),
        onResult: (r) => progress.result(r),
      },
      process.argv.slice(2),
    );
  } catch (e) {
    progress.done();
    if (e instanceof run.ExpectationFileErrors) {
      err(e.message);
      err('sysabi: the expectation file is invalid; nothing was reported');
      return 2;
    }
    throw e;
  }
  progress.done();
  const model = await import('./report/model.js');
  const input = { report, cases: model.caseIndex(cases) };
  if (format === 'tap') out((await import('./report/tap.js')).renderTap(input));
  else if (format === 'ktap') out((await import('./report/ktap.js')).renderKtap(input));
  else out((await import('./report/json.js')).renderJson(input));
  if (v.out) {
    const { writeReportDir } = await import('./report/write.js');
    const w = await writeReportDir(String(v.out), input);
    err(`sysabi: reports written to ${w.dir}`);
  }
  for (const t of report.targets) if (t.unavailable) err(`sysabi: ${t.name}: ${t.unavailable}`);
  process.removeListener('SIGINT', onInt);
  if (ac.signal.aborted) return 130;
  if (format === 'ktap') return (await import('./report/ktap.js')).ktapExitCode(report);
  return run.runFailed(report) ? 1 : 0;
}

async function cmdList(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    args,
    { abi: { type: 'string', short: 'a', multiple: true }, grep: { type: 'string', short: 'g' }, tag: { type: 'string', multiple: true }, coverage: { type: 'boolean' }, json: { type: 'boolean' } },
    LIST_HELP,
  );
  if (v.help) return out(LIST_HELP), 0;
  const abis = parseAbis(v.abi as string[] | undefined);
  const grep = parseGrep(v.grep as string | undefined);
  const { run, loaded, ids, failed } = await loadOrExit(positionals);
  if (failed) return 2;
  const { cases, unmatched } = run.selectCases(loaded.cases, { ids, abis, grep, tags: splitList(v.tag as string[] | undefined) });
  if (unmatched.length) {
    const { noMatchMessage } = await import('./suggest.js');
    throw new UsageError(noMatchMessage(unmatched, loaded.cases.map((c) => c.case.id)));
  }
  const specs = new Map<string, { title: string; file: string; covers: string[]; tags: string[]; cases: string[] }>();
  for (const c of cases) {
    const s = specs.get(c.spec.id) ?? { title: c.spec.title, file: c.spec.file, covers: c.spec.covers ?? [], tags: c.spec.tags, cases: [] };
    s.cases.push(c.case.id + (c.skipReason ? `  (skip: ${c.skipReason})` : ''));
    specs.set(c.spec.id, s);
  }
  if (v.coverage) {
    // The closed catalogue list lives with the spec schema (harness/spec/catalogue.ts).
    let titles: Record<string, string> | undefined;
    try {
      titles = ((await import(new URL('./spec/catalogue.js', import.meta.url).href)) as { CATALOGUE: Record<string, string> }).CATALOGUE;
    } catch {
      titles = undefined;
    }
    const known = titles ? Object.keys(titles) : undefined;
    const by = new Map<string, string[]>();
    for (const [id, s] of specs) for (const k of s.covers) by.set(k, [...(by.get(k) ?? []), id]);
    const all = [...new Set([...(known ?? []), ...by.keys()])].sort(catalogueOrder);
    if (v.json) return out(JSON.stringify(Object.fromEntries(all.map((k) => [k, by.get(k) ?? []])), null, 2)), 0;
    for (const k of all) out(`${k.padEnd(6)} ${(by.get(k)?.join(', ') ?? '-- not covered').padEnd(40)}  ${titles?.[k] ?? ''}`.trimEnd());
    const covered = all.filter((k) => by.has(k)).length;
    out(`# ${covered} of ${all.length} catalogue ids covered${known ? '' : ' (catalogue list not found; showing covered ids only)'}`);
    return 0;
  }
  if (v.json) return out(JSON.stringify(Object.fromEntries(specs), null, 2)), 0;
  for (const [id, s] of specs) {
    out(`${id}  ${s.title}  [${s.file}]`);
    for (const c of s.cases) out(`  ${c}`);
  }
  out(`# ${specs.size} specs, ${cases.length} cases`);
  return 0;
}

/** RG-02 before RG-10, areas alphabetically. */
function catalogueOrder(a: string, b: string): number {
  const [pa, na] = [a.replace(/-\d+$/, ''), Number(a.replace(/^.*-/, ''))];
  const [pb, nb] = [b.replace(/-\d+$/, ''), Number(b.replace(/^.*-/, ''))];
  return pa === pb ? na - nb : pa < pb ? -1 : 1;
}

async function cmdLint(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, { strict: { type: 'boolean' } }, LINT_HELP);
  if (v.help) return out(LINT_HELP), 0;
  const mod = (await import(new URL('./commands/lint.js', import.meta.url).href)) as {
    lintCommand(p: string[], o: Sink, e: Sink, opts?: { strict?: boolean }): Promise<number>;
  };
  return mod.lintCommand(positionals.length ? positionals : [join(ROOT, 'specs')], sink(process.stdout), sink(process.stderr), { strict: v.strict === true });
}

async function cmdExplain(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, { trace: { type: 'boolean' }, 'sim-profile': { type: 'string' }, specs: { type: 'string', multiple: true } }, EXPLAIN_HELP);
  if (v.help) return out(EXPLAIN_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`explain takes exactly one case id (got ${positionals.length})\n\n${EXPLAIN_HELP}`);
  const id = positionals[0]!;
  const { loaded, failed } = await loadOrExit((v.specs as string[] | undefined) ?? []);
  if (failed) return 2;
  const ec = loaded.cases.find((c) => c.case.id === id);
  if (!ec) {
    // explain needs one full case id: offer the closest ones, each with its ABI.
    const { nearestIds } = await import('./suggest.js');
    const all = loaded.cases.map((c) => c.case.id);
    let near = nearestIds(id, all, 10);
    if (!/@[^/@]+$/.test(id)) near = near.flatMap((n) => (n.includes('/') ? all.filter((a) => a === n || a.startsWith(n + '@') || (!n.includes('@') && a.startsWith(n + '/'))) : [n])).slice(0, 10);
    throw new UsageError(`no case "${id}"${near.length ? `; did you mean:\n${near.map((n) => `  ${n}`).join('\n')}` : ' (`sysabi list` prints every id)'}`);
  }
  const ex = (await import(new URL('./explain.js', import.meta.url).href)) as { explainCase(ec: unknown): string };
  out(ex.explainCase(ec));
  if (!v.trace) return 0;
  const registry = await import('./targets/registry.js');
  const made = await registry.createTarget(`sim:${(v['sim-profile'] as string | undefined) ?? registry.DEFAULT_SIM_PROFILE}`);
  if (!made.ok) {
    err(`sysabi: cannot trace: ${made.reason}`);
    return 1;
  }
  const run = await import('./run.js');
  const tr = await run.runOnTarget([ec], made.target, { targets: [], explain: true });
  const r = tr.results[0]!;
  out(`\nTrace on ${made.name}:`);
  const steps = r.observation?.steps ?? [];
  if (!steps.length) out('  (the target recorded no steps)');
  steps.forEach((s, i) => out(`  ${String(i + 1).padStart(3)}. ${s}`));
  out(`\nVerdict: ${r.status.toUpperCase()}${r.reason ? ` — ${r.reason}` : ''}`);
  for (const d of r.diffs) out(`  ${d.field}: expected ${d.expected}, observed ${d.observed}${d.note ? ` (${d.note})` : ''}`);
  return r.status === 'pass' || r.status === 'skip' || r.status === 'xfail' ? 0 : 1;
}

async function cmdTables(args: string[]): Promise<number> {
  const mod = (await import(new URL('./commands/tables.js', import.meta.url).href)) as { tablesCommand(a: string[], o: Sink): Promise<number> };
  return mod.tablesCommand(args, sink(process.stdout));
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: cmdRun,
  list: cmdList,
  lint: cmdLint,
  explain: cmdExplain,
  tables: cmdTables,
  // Issue 8: expectation files from a run, and merging results.json files (harness/commands/).
  expectations: async (a) => ((await import(new URL('./commands/expectations.js', import.meta.url).href)) as typeof import('./commands/expectations.js')).expectationsCommand(a, ROOT, out, err),
  merge: async (a) => ((await import(new URL('./commands/merge.js', import.meta.url).href)) as typeof import('./commands/merge.js')).mergeCommand(a, out, err),
  diff: async (a) => ((await import(new URL('./commands/diff.js', import.meta.url).href)) as typeof import('./commands/diff.js')).diffCommand(a, ROOT, out, err),
  fuzz: async (a) => ((await import(new URL('./commands/fuzz.js', import.meta.url).href)) as typeof import('./commands/fuzz.js')).fuzzCommand(a, ROOT, out, err),
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V') return out(version()), 0;
  if (cmd === undefined || cmd === '--help' || cmd === '-h') return out(MAIN_HELP), cmd === undefined ? 2 : 0;
  // `sysabi help run` is `sysabi run --help` (the run help lists the targets built here).
  if (cmd === 'help') {
    const sub = rest[0];
    if (sub === undefined) return out(MAIN_HELP), 0;
    if (!COMMANDS[sub]) {
      err(`sysabi help: unknown command "${sub}" (expected ${Object.keys(COMMANDS).join(', ')})`);
      return 2;
    }
    return main([sub, '--help']);
  }
  const f = COMMANDS[cmd];
  if (!f) {
    err(`sysabi: unknown command "${cmd}" (expected ${Object.keys(COMMANDS).join(', ')})\n`);
    err(MAIN_HELP);
    return 2;
  }
  try {
    return await f(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`sysabi ${cmd}: ${e.message}`);
      return 2;
    }
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      // A part of sysabi that has not landed in this checkout yet (spec loader, tables, ...).
      err(`sysabi ${cmd}: not available in this build: ${(e as Error).message.split('\n')[0]}`);
      return 2;
    }
    throw e;
  }
}

// Run when executed (not when imported by tests). Exit only after stdout has drained, so a
// large report piped into another program is never cut short.
const invoked = process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (invoked) {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      err(`sysabi: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.stdout.write('', () => process.exit(70));
    },
  );
}
