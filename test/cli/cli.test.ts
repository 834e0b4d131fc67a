// The sysabi command as a user runs it (spawned: node --import tsx harness/cli.ts …):
// exit codes 0/1/2 (and kselftest's 4 with --format ktap), spec and expectation-file errors
// as file:line:col without a stack trace, output formats, report files, sharding, and no
// progress line when stderr is a pipe.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Parser } from 'tap-parser';
import { fromJson } from '../../harness/json.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = 'test/cli/fixtures';
const TARGET = `module:${FIX}/target.ts`;
const PASS = `${FIX}/specs/pass`;
const FAIL = `${FIX}/specs/fail`;
const BAD = `${FIX}/specs/bad`;
const noExp = mkdtempSync(join(tmpdir(), 'sysabi-noexp-'));

function sysabi(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const run = (...args: string[]) => sysabi('run', '--target', TARGET, '--expectations', noExp, ...args);

function tapCounts(text: string): Promise<{ ok: boolean; pass: number; fail: number; skip: number; todo: number }> {
  return new Promise((resolve) => {
    const c = { pass: 0, fail: 0, skip: 0, todo: 0 };
    // Count the leaves only: depth 2 (target → spec → case).
    const watch = (p: Parser, depth: number) => {
      p.on('assert', (r: { ok: boolean; skip: unknown; todo: unknown }) => {
        if (depth !== 2) return;
        if (r.skip) c.skip++;
        else if (r.todo) c.todo++;
        else if (r.ok) c.pass++;
        else c.fail++;
      });
      p.on('child', (ch: Parser) => watch(ch, depth + 1));
    };
    const parser = new Parser((res) => resolve({ ok: res.ok, ...c }));
    watch(parser, 0);
    parser.end(text);
  });
}

const noStack = (t: { notMatch(s: string, re: RegExp, msg: string): unknown }, s: string) => t.notMatch(s, /\n\s+at .*:\d+:\d+\)?\n/, 'no stack trace');

t.test('--version and --help', async (t) => {
  const v = sysabi('--version');
  t.equal(v.code, 0);
  t.equal(v.stdout.trim(), JSON.parse((await import('node:fs')).readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  const h = sysabi('run', '--help');
  t.equal(h.code, 0);
  t.match(h.stdout, /--shard i\/n/);
  t.match(h.stdout, /sim\[:PROFILE\]/);
  t.equal(sysabi('--help').code, 0);
  t.equal(sysabi().code, 2, 'no command is a usage error');
});

t.test('usage errors exit 2 with a message', async (t) => {
  for (const [args, re] of [
    [['run', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['run', '--target', 'nonesuch'], /unknown target "nonesuch": expected one of/],
    [['run', '--format', 'xml'], /--format "xml": expected tap, ktap or json/],
    [['run', '--abi', 'arm64'], /--abi "arm64": expected one of x86_64, i386, x32/],
    [['run', '--grep', '('], /--grep "\(": not a regular expression/],
    [['run', '--target', TARGET, PASS, '--shard', '3/2'], /--shard "3\/2": expected i\/n/],
    [['run', '--target', TARGET, PASS, 'harness.fixture.pass/nope@x86_64'], /no case matches "harness.fixture.pass\/nope@x86_64"/],
    [['frob'], /unknown command "frob"/],
  ] as [string[], RegExp][]) {
    const r = sysabi(...args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, re);
    noStack(t, r.stderr);
  }
});

t.test('a spec error is file:line:col and exit 2, never a stack trace', async (t) => {
  const r = run(BAD);
  t.equal(r.code, 2);
  t.match(r.stderr, /test\/cli\/fixtures\/specs\/bad\/fixture-bad\.yaml:11:5: .*unknown key "expct"/);
  t.equal(r.stdout, '', 'nothing on stdout: nothing was run');
  noStack(t, r.stderr);
});

t.test('all pass → 0, TAP 14 on stdout with the right counts, no progress on a pipe', async (t) => {
  const r = run(PASS);
  t.equal(r.code, 0, r.stderr);
  const c = await tapCounts(r.stdout);
  t.same(c, { ok: true, pass: 4, fail: 0, skip: 0, todo: 0 });
  t.match(r.stdout, /# module:test\/cli\/fixtures\/target\.ts: pass 4 fail 0 skip 0 xfail 0 xpass 0 error 0\n/);
  t.notMatch(r.stderr, /\r|\x1b\[/, 'no progress line or colour on a pipe');
});

t.test('a failure → 1, with a diagnostic that reproduces it', async (t) => {
  const r = run(FAIL);
  t.equal(r.code, 1);
  const c = await tapCounts(r.stdout);
  t.same(c, { ok: false, pass: 1, fail: 1, skip: 0, todo: 0 });
  // The spec is not one of the package's specs/, so the command names its file.
  const line = /reproduce: (.*)/.exec(r.stdout)?.[1];
  t.equal(line, 'npx sysabi run --target module:test/cli/fixtures/target.ts test/cli/fixtures/specs/fail/fixture-fail.yaml harness.fixture.fail/getuid-returns-seven@x86_64');
  // Pasted as printed (npx sysabi → the CLI), it runs that case alone and fails again.
  const words = line!.split(' ');
  t.same(words.slice(0, 3), ['npx', 'sysabi', 'run']);
  const alone = sysabi(...words.slice(2));
  t.equal(alone.code, 1, alone.stderr);
  t.same(await tapCounts(alone.stdout), { ok: false, pass: 0, fail: 1, skip: 0, todo: 0 });
});

t.test('--format ktap uses kselftest exit codes; --format json is results.json', async (t) => {
  const pass = run(PASS, '--format', 'ktap');
  t.equal(pass.code, 0);
  t.match(pass.stdout, /^KTAP version 1\n1\.\.1\n/);
  t.match(pass.stdout, /# Totals: pass:4 fail:0 xfail:0 xpass:0 skip:0 error:0\n$/);
  t.equal(run(FAIL, '--format', 'ktap').code, 1);
  const skipped = sysabi('run', '--target', 'module:/nonexistent/t.js', '--format', 'ktap', PASS);
  t.equal(skipped.code, 4, 'every case skipped → 4');
  t.match(skipped.stderr, /module:\/nonexistent\/t\.js: target not available/);
  const j = run(PASS, FAIL, '--format', 'json');
  t.equal(j.code, 1);
  const doc = fromJson<{ results: { caseId: string; status: string }[]; targets: { counts: { pass: number; fail: number } }[] }>(j.stdout);
  t.equal(doc.results.length, 6);
  t.same(doc.targets[0]!.counts, { pass: 5, fail: 1, skip: 0, xfail: 0, xpass: 0, error: 0 });
});

t.test('--out writes reports/<run id>/', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'sysabi-cli-out-'));
  const r = run(PASS, '--out', out);
  t.equal(r.code, 0);
  const [dir] = readdirSync(out);
  t.match(dir, /^\d{8}T\d{6}Z-\d{3}$/);
  t.same(readdirSync(join(out, dir!)).sort(), ['junit.xml', 'matrix.html', 'matrix.md', 'module-test-cli-fixtures-target.ts.tap', 'results.json']);
  t.match(r.stderr, /reports written to/);
});

t.test('expectation files: XFAIL passes the run, XPASS fails it, a bad file is exit 2', async (t) => {
  const dir = (text: string) => {
    const d = mkdtempSync(join(tmpdir(), 'sysabi-cli-exp-'));
    // The fixture target's name is "module:test/cli/fixtures/target.ts" → this file name.
    writeFileSync(join(d, 'module-test-cli-fixtures-target.ts.yaml'), text);
    return d;
  };
  const xfail = dir('- { case: harness.fixture.fail/getuid-returns-seven@x86_64, expect: fail, reason: the fixture answers 0 }\n');
  const a = sysabi('run', '--target', TARGET, '--expectations', xfail, FAIL);
  t.equal(a.code, 0, 'a known failure does not fail the run');
  t.same(await tapCounts(a.stdout), { ok: true, pass: 1, fail: 0, skip: 0, todo: 1 });
  const stale = dir('- { case: "harness.fixture.fail/sched-*", expect: fail, reason: was broken once }\n');
  const b = sysabi('run', '--target', TARGET, '--expectations', stale, FAIL);
  t.equal(b.code, 1, 'XPASS fails the run');
  t.match(b.stdout, /status: xpass/);
  const bad = dir('- case: harness.fixture.fail/getuid-returns-seven@x86_64\n  expect: fail\n  reason: x\n  bug: 12\n');
  const c = sysabi('run', '--target', TARGET, '--expectations', bad, FAIL);
  t.equal(c.code, 2);
  t.match(c.stderr, /module-test-cli-fixtures-target\.ts\.yaml:4:3: unknown key "bug"/);
  noStack(t, c.stderr);
});

t.test('--shard splits the cases into disjoint parts that cover everything', async (t) => {
  const ids = (args: string[]) => fromJson<{ results: { caseId: string }[] }>(run(PASS, FAIL, '--format', 'json', ...args).stdout).results.map((r) => r.caseId);
  const all = ids([]);
  const parts = [ids(['--shard', '1/3']), ids(['--shard', '2/3']), ids(['--shard', '3/3'])];
  t.same(parts.flat().sort(), [...all].sort(), 'the union is everything, with no case twice');
  for (const p of parts) t.ok(p.length === 2, `balanced: ${p.join(' ')}`);
});

t.test('list and filters', async (t) => {
  const l = sysabi('list', PASS, '--abi', 'i386');
  t.equal(l.code, 0);
  t.match(l.stdout, /harness\.fixture\.pass\/getpid-returns-the-pid@i386/);
  t.notMatch(l.stdout, /@x86_64/);
  t.match(l.stdout, /# 1 specs, 2 cases/);
  const g = sysabi('list', PASS, FAIL, '--grep', 'getpid');
  t.match(g.stdout, /# 1 specs, 2 cases/);
  t.ok(existsSync(join(ROOT, 'harness/spec/catalogue.ts')));
  const cov = sysabi('list', PASS, '--coverage');
  t.equal(cov.code, 0);
  t.match(cov.stdout, /RG-01 +-- not covered/);
  t.match(cov.stdout, /# 0 of \d+ catalogue ids covered/);
});

t.test('lint: 0 when clean, 2 with file:line:col', async (t) => {
  const ok = sysabi('lint', PASS, FAIL);
  t.equal(ok.code, 0);
  t.match(ok.stdout, /2 specs, 6 cases, no errors/);
  const bad = sysabi('lint', BAD);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /fixture-bad\.yaml:11:5: /);
  noStack(t, bad.stderr);
});

t.test('explain prints the case; --trace steps it on the simulator', async (t) => {
  const id = 'harness.fixture.pass/getpid-returns-the-pid@x86_64';
  const e = sysabi('explain', id, '--specs', PASS);
  t.equal(e.code, 0, e.stderr);
  t.match(e.stdout, /getpid/);
  const typo = sysabi('explain', 'harness.fixture.pass/getpid@x86_64', '--specs', PASS);
  t.equal(typo.code, 2);
  t.match(typo.stderr, /no case "harness\.fixture\.pass\/getpid@x86_64"; did you mean:\n\s+harness\.fixture\.pass\/getpid-returns-the-pid@x86_64/);
  const tr = sysabi('explain', id, '--specs', PASS, '--trace');
  if (/target not available/.test(tr.stderr)) {
    t.equal(tr.code, 1, 'no simulator in this build: reported, exit 1');
    return;
  }
  t.equal(tr.code, 0, tr.stderr);
  t.match(tr.stdout, /Trace on sim:linux-7\.0-intel:\n\s+1\. /);
  t.match(tr.stdout, /Verdict: PASS/);
});

t.test('help: every command has one, `help X` is `X --help`, the main help names them all', async (t) => {
  const main = sysabi('--help').stdout;
  for (const cmd of ['run', 'list', 'lint', 'explain', 'tables', 'diff', 'expectations', 'merge']) {
    t.match(main, new RegExp(`\\n  ${cmd}\\b`), `main help lists ${cmd}`);
    const a = sysabi(cmd, '--help');
    const b = sysabi('help', cmd);
    t.equal(b.code, a.code, `help ${cmd}: same exit code`);
    t.equal(b.stdout, a.stdout, `help ${cmd} prints ${cmd} --help`);
    t.match(a.stdout, /usage: sysabi/i, `${cmd} --help has a usage line`);
    t.notMatch(a.stdout, /\$\{/, `${cmd} --help has no unfilled placeholder`);
  }
  const bad = sysabi('help', 'frob');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown command "frob"/);
});

t.test('usage messages are short and point at the fix', async (t) => {
  const o = sysabi('list', '--frob');
  t.equal(o.code, 2);
  t.match(o.stderr, /^sysabi list: Unknown option '--frob'\n\nUsage: sysabi list/);
  t.notMatch(o.stderr, /positional argument/, "node's hint about '--' is dropped");
  const p = sysabi('run', '--target', 'sim:linux-7.0-intl', PASS);
  t.equal(p.code, 2, 'a misspelt sim profile is a usage error, not a run of errors');
  t.match(p.stderr, /unknown sim profile "linux-7\.0-intl" \(did you mean "linux-7\.0-intel"\?\)/);
  t.equal(p.stdout, '', 'nothing was run');
  const typo = run(PASS, 'harness.fixture.pass/getpid-returns-the-pdi@x86_64');
  t.equal(typo.code, 2);
  t.match(typo.stderr, /no case matches "harness\.fixture\.pass\/getpid-returns-the-pdi@x86_64"; did you mean:\n  harness\.fixture\.pass\/getpid-returns-the-pid@x86_64\n/);
  const spec = sysabi('list', PASS, 'harness.fixture.pas');
  t.equal(spec.code, 2);
  t.match(spec.stderr, /did you mean:\n  harness\.fixture\.pass\n/);
});

t.test('explain names the registers of 32-bit code by their 32-bit names', async (t) => {
  const e = sysabi('explain', 'args.arg1/close-of-a-closed-descriptor@i386');
  t.equal(e.code, 0, e.stderr);
  t.match(e.stdout, /Registers before the entry \(32-bit code: the low halves\):\n  ebx  = /);
  t.notMatch(e.stdout, /\n  rbx  = /);
  const w = sysabi('explain', 'args.arg1/close-of-a-closed-descriptor@x86_64');
  t.match(w.stdout, /\n  rdi  = /, '64-bit code keeps the 64-bit names');
});
