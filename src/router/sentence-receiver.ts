// Our stand-in for node-routeros' Receiver (the object that turns socket bytes into replies for
// its Channels). node-routeros 1.6.9's own Receiver has three defects we cannot live with:
//  - `!empty` (RouterOS 7.18+, "nothing matched") reaches Channel.onUnknown, which throws inside
//    the socket's data handler: an uncaught exception that kills the process;
//  - it only completes a sentence when its last word and the terminating empty word arrive in
//    the same TCP read, so a reply split by the network can hang forever;
//  - a reply for a tag nobody reads throws (UNREGISTEREDTAG), again uncaught; and `!fatal`
//    loses its reason.
// This class keeps the Receiver's interface (read / stop / processRawData) so the rest of
// node-routeros is untouched: it frames words across any chunking, drops `!empty` (the `!done`
// that follows completes the command, with the rows gathered so far: none), reports `!fatal`
// and framing errors to its owner, and never lets an exception escape into the socket.

import { decodeWin1252 } from './win1252.js';

/** What node-routeros' Channel registers per tag: it gets `[reply, ...attribute words]`, `.tag` removed. */
export type TagReader = (packet: string[]) => void;

export interface SentenceReceiverHooks {
  /** The router sent `!fatal`; it closes the connection right after. */
  onFatal(reason: string): void;
  /** The stream cannot be followed any more (bad framing, or node-routeros threw on a reply): drop the connection. */
  onBroken(error: Error): void;
  /** A sentence no one can use (unknown reply word, no tag, tag nobody reads); for logs. */
  onIgnored(reason: string, words: readonly string[]): void;
}

/** Longest word we accept; a larger length means the stream is corrupt (RouterOS replies are far smaller). */
const MAX_WORD_BYTES = 64 * 1024 * 1024;

export class SentenceReceiver {
  private readonly readers = new Map<string, TagReader>();
  private pending: Buffer = Buffer.alloc(0);
  private words: string[] = [];
  private broken = false;

  constructor(private readonly hooks: SentenceReceiverHooks) {}

  /** node-routeros API: route replies tagged `tag` to `reader`. */
  read(tag: string, reader: TagReader): void {
    this.readers.set(tag, reader);
  }

  /** node-routeros API: the channel for `tag` is done. */
  stop(tag: string): void {
    this.readers.delete(tag);
  }

  /** node-routeros API: called with every chunk the socket delivers. */
  processRawData(chunk: Buffer): void {
    if (this.broken) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    try {
      while (offset < this.pending.length) {
        const header = readLengthPrefix(this.pending, offset);
        if (header === undefined) break;
        const [prefixBytes, length] = header;
        if (length > MAX_WORD_BYTES) throw new Error(`word length ${length} is not plausible`);
        const start = offset + prefixBytes;
        if (start + length > this.pending.length) break;
        offset = start + length;
        if (length > 0) {
          this.words.push(decodeWin1252(this.pending, start, offset));
          continue;
        }
        const sentence = this.words;
        this.words = [];
        if (sentence.length > 0) this.dispatch(sentence);
        if (this.broken) return;
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.pending = this.pending.subarray(offset);
  }

  private dispatch(sentence: string[]): void {
    const [reply, ...rest] = sentence;
    if (reply === '!fatal') {
      this.hooks.onFatal(rest.map((word) => (word.startsWith('=message=') ? word.slice(9) : word)).join(' '));
      return;
    }
    let tag: string | undefined;
    const attributes: string[] = [];
    for (const word of rest) {
      if (word.startsWith('.tag=')) tag = word.slice(5);
      else attributes.push(word);
    }
    if (reply === '!empty') return;
    if (reply !== '!re' && reply !== '!done' && reply !== '!trap') {
      this.hooks.onIgnored(`unknown reply ${reply}`, sentence);
      return;
    }
    const reader = tag === undefined ? undefined : this.readers.get(tag);
    if (!reader) {
      this.hooks.onIgnored(tag === undefined ? 'untagged reply' : 'reply for a tag nobody reads', sentence);
      return;
    }
    try {
      reader([reply!, ...attributes]);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private fail(error: Error): void {
    this.broken = true;
    this.readers.clear();
    this.pending = Buffer.alloc(0);
    this.hooks.onBroken(error);
  }
}

/** `[prefix bytes, word length]`, or undefined when the prefix is not complete yet. Throws on reserved bytes. */
function readLengthPrefix(buf: Buffer, offset: number): [number, number] | undefined {
  const first = buf[offset]!;
  let size: number;
  if (first < 0x80) return [1, first];
  else if (first < 0xc0) size = 2;
  else if (first < 0xe0) size = 3;
  else if (first < 0xf0) size = 4;
  else if (first === 0xf0) size = 5;
  else throw new Error(`reserved length prefix byte 0x${first.toString(16)}`);
  if (offset + size > buf.length) return undefined;
  switch (size) {
    case 2:
      return [2, ((first & 0x3f) << 8) | buf[offset + 1]!];
    case 3:
      return [3, ((first & 0x1f) << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!];
    case 4:
      return [4, (((first & 0x0f) << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0];
    default:
      return [5, buf.readUInt32BE(offset + 1)];
  }
}
