// Windows-1252, the text encoding node-routeros (and WinBox) use on the API wire.
// Node's TextDecoder treats 'windows-1252' as latin1, so the 0x80-0x9F block is mapped here.

const HIGH_CONTROL_BLOCK: readonly (number | undefined)[] = [
  0x20ac, undefined, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, undefined, 0x017d, undefined,
  undefined, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, undefined, 0x017e, 0x0178,
];

const ENCODABLE_HIGH = new Set(HIGH_CONTROL_BLOCK.filter((cp): cp is number => cp !== undefined));

/** Bytes to text. The five bytes 1252 leaves undefined map to the matching C1 controls, so nothing is lost. */
export function decodeWin1252(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    out += String.fromCharCode(byte >= 0x80 && byte < 0xa0 ? (HIGH_CONTROL_BLOCK[byte - 0x80] ?? byte) : byte);
  }
  return out;
}

/** Whether node-routeros can send `text` unchanged (it silently turns anything else into `?`). */
export function isWin1252Encodable(text: string): boolean {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff)) continue;
    if (!ENCODABLE_HIGH.has(cp)) return false;
  }
  return true;
}
