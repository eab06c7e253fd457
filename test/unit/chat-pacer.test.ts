import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatPacer } from '../../bots/telegram/channel.js';

test('a chat may burst 3 messages, then one per second; other chats are not held up', () => {
  const pacer = new ChatPacer(3, 1);
  const t = 1_000_000;
  assert.equal(pacer.reserve('a', t), 0);
  assert.equal(pacer.reserve('a', t), 0);
  assert.equal(pacer.reserve('a', t), 0);
  const wait = pacer.reserve('a', t);
  assert.ok(wait > 0 && wait <= 1000, `wait ${wait}`);
  assert.equal(pacer.reserve('b', t), 0, 'another chat sends at once');
  assert.equal(pacer.reserve('a', t + 1000), 0, 'a token back after a second');
  assert.ok(pacer.reserve('a', t + 1000) > 0);
});
