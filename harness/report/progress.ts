// A one-line progress status on stderr while a run goes on — only when stderr is a TTY
// (never on a pipe or in CI logs), coloured unless NO_COLOR is set (no-color.org).

import type { Result } from '../contracts.js';

export interface Progress {
  targetStart(name: string, total: number): void;
  result(r: Result): void;
  done(): void;
}

const NOOP: Progress = { targetStart() {}, result() {}, done() {} };

export function createProgress(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Progress {
  if (!stream.isTTY) return NOOP;
  const color = env.NO_COLOR === undefined || env.NO_COLOR === '';
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  let name = '';
  let total = 0;
  let n = 0;
  let bad = 0;
  let skip = 0;
  let last = 0;
  const draw = (force = false) => {
    const now = Date.now();
    // Redraw at most ~20 times a second: a terminal write per case would cost more than the case.
    if (!force && now - last < 50) return;
    last = now;
    const width = stream.columns ?? 80;
    let line = `sysabi ${name}: ${n}/${total}`;
    line += bad ? `  ${paint('31', `${bad} unexpected`)}` : '';
    line += skip ? `  ${paint('33', `${skip} skipped`)}` : '';
    stream.write(`\r\x1b[2K${line.length > width + 20 ? line.slice(0, width - 1) : line}`);
  };
  return {
    targetStart(t, tot) {
      name = t;
      total = tot;
      n = bad = skip = 0;
      draw(true);
    },
    result(r) {
      n++;
      if (r.status === 'fail' || r.status === 'xpass' || r.status === 'error') bad++;
      if (r.status === 'skip') skip++;
      draw(n === total);
    },
    done() {
      stream.write('\r\x1b[2K');
    },
  };
}
