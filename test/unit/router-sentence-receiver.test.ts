// SentenceReceiver, our replacement for node-routeros' reply reader: framing across any
// chunking, `!empty`, `!fatal`, and no exception ever escaping into the socket handler.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SentenceReceiver, type SentenceReceiverHooks, type TagReader } from '../../src/router/sentence-receiver.js';
import { decodeWin1252, isWin1252Encodable } from '../../src/router/win1252.js';

function encodeWord(word: string | Buffer, prefix?: Buffer): Buffer {
  const bytes = typeof word === 'string' ? Buffer.from(word, 'latin1') : word;
  if (prefix) return Buffer.concat([prefix, bytes]);
  const n = bytes.length;
  let head: Buffer;
  if (n < 0x80) head = Buffer.from([n]);
  else if (n < 0x4000) head = Buffer.from([(n >> 8) | 0x80, n & 0xff]);
  else if (n < 0x200000) head = Buffer.from([(n >> 16) | 0xc0, (n >> 8) & 0xff, n & 0xff]);
  else head = Buffer.from([((n >> 24) & 0x0f) | 0xe0, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([head, bytes]);
}

function sentence(...words: (string | Buffer)[]): Buffer {
  return Buffer.concat([...words.map((w) => encodeWord(w)), Buffer.from([0])]);
}

function setup() {
  const events: string[] = [];
  const packets: string[][] = [];
  const hooks: SentenceReceiverHooks = {
    onFatal: (reason) => events.push(`fatal:${reason}`),
    onBroken: (error) => events.push(`broken:${error.message}`),
    onIgnored: (reason) => events.push(`ignored:${reason}`),
  };
  const receiver = new SentenceReceiver(hooks);
  const reader: TagReader = (packet) => packets.push(packet);
  return { receiver, reader, events, packets };
}

test('reassembles sentences however the stream is chunked, in every length-prefix form', () => {
  const long = 'x'.repeat(0x4001);
  const stream = Buffer.concat([
    sentence('!re', '.tag=7', '=name=a', `=comment=${long}`, `=note=${'n'.repeat(200)}`),
    // Over-long prefixes (4- and 5-byte forms for short words) are still valid encodings.
    Buffer.concat([encodeWord('!re', Buffer.from([0xe0, 0, 0, 3])), encodeWord('.tag=7'), encodeWord('=name=c'), Buffer.from([0])]),
    Buffer.concat([encodeWord('!re', Buffer.from([0xf0, 0, 0, 0, 3])), encodeWord('.tag=7'), encodeWord('=name=b'), Buffer.from([0])]),
    Buffer.from([0]),
    sentence('!done', '.tag=7'),
  ]);
  for (const size of [1, 2, 3, 5, 7, 64, stream.length]) {
    const { receiver, reader, packets, events } = setup();
    receiver.read('7', reader);
    for (let i = 0; i < stream.length; i += size) receiver.processRawData(stream.subarray(i, i + size));
    assert.deepEqual(packets, [['!re', '=name=a', `=comment=${long}`, `=note=${'n'.repeat(200)}`], ['!re', '=name=c'], ['!re', '=name=b'], ['!done']], `chunk size ${size}`);
    assert.deepEqual(events, []);
  }
});

test('!empty is dropped so the following !done completes the command', () => {
  const { receiver, reader, packets } = setup();
  receiver.read('q', reader);
  receiver.processRawData(Buffer.concat([sentence('!empty', '.tag=q'), sentence('!done', '.tag=q')]));
  assert.deepEqual(packets, [['!done']]);
});

test('!fatal is reported with its reason', () => {
  const { receiver, events } = setup();
  receiver.processRawData(sentence('!fatal', 'session terminated on request'));
  assert.deepEqual(events, ['fatal:session terminated on request']);
});

test('unknown replies, untagged replies and unread tags are ignored, not thrown', () => {
  const { receiver, reader, packets, events } = setup();
  receiver.read('1', reader);
  receiver.processRawData(
    Buffer.concat([sentence('!strange', '.tag=1'), sentence('!done'), sentence('!done', '.tag=2'), sentence('!done', '.tag=1')]),
  );
  assert.deepEqual(packets, [['!done']]);
  assert.deepEqual(events, ['ignored:unknown reply !strange', 'ignored:untagged reply', 'ignored:reply for a tag nobody reads']);
});

test('a reader that throws or a reserved prefix byte breaks the stream instead of the process', () => {
  const throwing = setup();
  throwing.receiver.read('1', () => {
    throw new Error('Tried to process unknown reply');
  });
  throwing.receiver.processRawData(Buffer.concat([sentence('!re', '.tag=1'), sentence('!done', '.tag=1')]));
  assert.deepEqual(throwing.events, ['broken:Tried to process unknown reply']);

  const corrupt = setup();
  corrupt.receiver.processRawData(Buffer.from([0xf8, 1, 2, 3]));
  assert.match(corrupt.events[0] ?? '', /^broken:reserved length prefix/);
  corrupt.receiver.processRawData(sentence('!fatal', 'late'));
  assert.equal(corrupt.events.length, 1, 'nothing is read after the stream broke');
});

test('Windows-1252 decoding and the encodability check', () => {
  assert.equal(decodeWin1252(Buffer.from([0x80, 0x41, 0xe9, 0x9f])), '€AéŸ');
  assert.equal(decodeWin1252(Buffer.from([0x81])), '\u0081');
  assert.equal(isWin1252Encodable('Zoë – €5'), true);
  assert.equal(isWin1252Encodable('Жанна'), false);
  assert.equal(isWin1252Encodable('🙂'), false);
  assert.equal(isWin1252Encodable('\u0081'), false);
});
