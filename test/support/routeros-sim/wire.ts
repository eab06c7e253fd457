// RouterOS API framing as a router speaks it: length-prefixed words, sentences ended by an
// empty word. Kept separate from src/router on purpose, so a framing bug in the client cannot
// be cancelled out by the same bug in the stand-in it is tested against.
//
// Words are carried as latin1 strings: one char per byte, so whatever bytes a client sends
// come back byte for byte (a router stores bytes, not text).

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** Largest word the simulator accepts; a real router has a limit too, and this keeps a bad client from exhausting memory. */
const MAX_WORD_BYTES = 16 * 1024 * 1024;

export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError(`word length out of range: ${length}`);
  }
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) {
    const v = length | 0x8000;
    return Buffer.from([(v >> 8) & 0xff, v & 0xff]);
  }
  if (length < 0x200000) {
    const v = length | 0xc00000;
    return Buffer.from([(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  }
  if (length < 0x10000000) {
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE((length | 0xe0000000) >>> 0);
    return buf;
  }
  const buf = Buffer.alloc(5);
  buf[0] = 0xf0;
  buf.writeUInt32BE(length >>> 0, 1);
  return buf;
}

export function encodeWord(word: string | Buffer): Buffer {
  const bytes = typeof word === 'string' ? Buffer.from(word, 'latin1') : word;
  return Buffer.concat([encodeLength(bytes.length), bytes]);
}

/** A whole sentence as one buffer, so it can go out in a single socket write. */
export function encodeSentence(words: readonly (string | Buffer)[]): Buffer {
  return Buffer.concat([...words.map(encodeWord), Buffer.from([0])]);
}

/** How many bytes the length prefix starting with `first` takes; throws on reserved control bytes. */
function prefixSize(first: number): number {
  if (first < 0x80) return 1;
  if (first < 0xc0) return 2;
  if (first < 0xe0) return 3;
  if (first < 0xf0) return 4;
  if (first === 0xf0) return 5;
  throw new ProtocolError(`reserved length prefix byte 0x${first.toString(16)}`);
}

function readLength(buf: Buffer, offset: number, size: number): number {
  const first = buf[offset]!;
  switch (size) {
    case 1:
      return first;
    case 2:
      return ((first & 0x3f) << 8) | buf[offset + 1]!;
    case 3:
      return ((first & 0x1f) << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!;
    case 4:
      return (((first & 0x0f) << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
    default:
      return buf.readUInt32BE(offset + 1);
  }
}

/**
 * Incremental sentence reader: feed it socket chunks of any size, get back complete sentences.
 * Empty sentences (a lone terminator) are dropped, as a router ignores them.
 */
export class SentenceDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private words: string[] = [];

  push(chunk: Buffer): string[][] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const sentences: string[][] = [];
    let offset = 0;
    for (;;) {
      if (offset >= this.pending.length) break;
      const size = prefixSize(this.pending[offset]!);
      if (offset + size > this.pending.length) break;
      const length = readLength(this.pending, offset, size);
      if (length > MAX_WORD_BYTES) throw new ProtocolError(`word of ${length} bytes is too long`);
      if (offset + size + length > this.pending.length) break;
      const start = offset + size;
      offset = start + length;
      if (length === 0) {
        if (this.words.length > 0) sentences.push(this.words);
        this.words = [];
      } else {
        this.words.push(this.pending.toString('latin1', start, offset));
      }
    }
    this.pending = this.pending.subarray(offset);
    return sentences;
  }
}
