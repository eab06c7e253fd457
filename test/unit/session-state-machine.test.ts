import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFinal, nextState } from '../../src/domain/sessionStateMachine.js';

test('pending can be approved, denied, expired or closed', () => {
  assert.equal(nextState('pending', 'approve'), 'approved');
  assert.equal(nextState('pending', 'deny'), 'denied');
  assert.equal(nextState('pending', 'expire'), 'expired');
  assert.equal(nextState('pending', 'close'), 'closed');
});

test('approved can only be closed', () => {
  assert.equal(nextState('approved', 'close'), 'closed');
  assert.equal(nextState('approved', 'approve'), null);
  assert.equal(nextState('approved', 'deny'), null);
  assert.equal(nextState('approved', 'expire'), null);
});

test('denied, expired and closed are final', () => {
  for (const state of ['denied', 'expired', 'closed'] as const) {
    assert.equal(isFinal(state), true, state);
    for (const event of ['approve', 'deny', 'expire', 'close'] as const) assert.equal(nextState(state, event), null, `${state} ${event}`);
  }
  assert.equal(isFinal('pending'), false);
  assert.equal(isFinal('approved'), false);
});
