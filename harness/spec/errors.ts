// Spec errors with positions (file:line:col), and the "did you mean" helper used by every
// load-time check. A SpecError is data, never an exception with a stack trace.

export interface SpecError {
  file: string;
  /** 1-based line and column of the offending YAML node. */
  line: number;
  col: number;
  message: string;
}

/** `file:line:col: error: message`, the shape compilers use so editors can jump to it. */
export function formatSpecError(e: SpecError): string {
  return `${e.file}:${e.line}:${e.col}: error: ${e.message}`;
}

/** Edit distance (Levenshtein), small strings only. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[n]!;
}

/** The known name closest to `found` when it is plausibly a typo of it, else undefined. */
export function closest(found: string, known: Iterable<string>): string | undefined {
  const f = found.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(f, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = Math.max(2, Math.floor(found.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

/** " (did you mean "X"?)" or "". */
export function didYouMean(found: string, known: Iterable<string>): string {
  const c = closest(found, known);
  return c !== undefined && c !== found ? ` (did you mean "${c}"?)` : '';
}

/** A short list of alternatives for "expected one of ..." (long lists are cut). */
export function oneOf(values: readonly string[], max = 16): string {
  if (values.length <= max) return values.join(', ');
  return `${values.slice(0, max).join(', ')}, ... (${values.length} in all)`;
}
