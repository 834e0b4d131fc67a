// The committed emulator expectation files (suites/expectations/*.yaml) parse cleanly and every
// entry's reason is evidence, not a shrug: a known divergence must say what the emulator does
// and why, so a reader can tell an emulator defect from a probe or spec defect.

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatExpectationError, parseExpectations } from '../../harness/expectations.js';

const DIR = join(import.meta.dirname, '../../suites/expectations');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

// Phrases that admit nobody looked. Each has been in a reason once (the qemu-i386 sigreturn
// crash read "not investigated further" until its cause was traced to qemu's GDT and rcu assert).
const SHRUGS: RegExp[] = [
  /not investigated/i,
  /(didn'?t|did not|haven'?t|have not|nobody) (investigate|look)/i,
  /unknown (reason|cause)/i,
  /no idea/i,
  /for some reason/i,
  /\bsomehow\b/i,
  /\b(TODO|TBD|FIXME)\b/,
  /\?\s*\)?\s*\.?\s*$/, // a reason ending in a question mark
];
// Shorter than this cannot say what the emulator does and what the kernel does instead.
const MIN_REASON = 60;

t.ok(FILES.length >= 3, `expectation files found in ${DIR}: ${FILES.join(', ')}`);

for (const f of FILES) {
  t.test(f, async (t) => {
    const { set, errors } = parseExpectations(readFileSync(join(DIR, f), 'utf8'), f);
    t.same(errors.map(formatExpectationError), [], 'parses without errors');
    if (!set) return;
    t.ok(set.entries.length > 0, 'lists at least one entry');
    const bad: string[] = [];
    for (const e of set.entries) {
      const r = e.reason.replace(/\s+/g, ' ').trim();
      const shrug = SHRUGS.find((re) => re.test(r));
      if (shrug) bad.push(`${f}:${e.line}: ${e.case}: the reason admits no investigation (${shrug}): "${r.slice(0, 120)}…"`);
      else if (r.length < MIN_REASON) bad.push(`${f}:${e.line}: ${e.case}: the reason is ${r.length} characters, expected at least ${MIN_REASON} (what the emulator does, what the kernel does)`);
    }
    t.same(bad, [], 'every reason is evidence');
  });
}

t.test('the shrug detector catches what it is meant to catch', async (t) => {
  const hit = (s: string) => SHRUGS.some((re) => re.test(s));
  t.ok(hit('The probe exits with 127. Emulator divergence (not investigated further).'));
  t.ok(hit('qemu returns EINVAL here, why?'));
  t.ok(hit("We didn't look into it."));
  t.notOk(hit('qemu-i386 has no arch_prctl and returns -ENOSYS; the kernel serves it (arch/x86/kernel/process.c).'));
  t.notOk(hit('a glob such as "a.b/x?y" in the middle of a sentence is fine.'));
});
