// JSON encoding of the contracts: bigint travels as a "0x…" hex string (DESIGN.md), so
// 64-bit register values survive JSON, which has only doubles.
// Encoding turns every bigint into a hex string; decoding turns every "0x…" string back
// into a bigint (contract strings never start with "0x" otherwise).

const HEX = /^-?0x[0-9a-fA-F]+$/;

/** bigint → "0x…" (negative values keep their sign: "-0x26"). */
export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** JSON.stringify with bigints as hex strings. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? hex(v) : v), indent);
}

/** JSON.parse turning "0x…" strings back into bigints. */
export function fromJson<T = unknown>(text: string): T {
  return JSON.parse(text, (_k, v) => {
    if (typeof v === 'string' && HEX.test(v)) {
      return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
    }
    return v;
  }) as T;
}
