// The knowledge base is edited while Warden runs: a copy of kb/ in a temporary directory is
// loaded with watching on, then files are added, changed, broken and deleted on disk, and the
// answers must follow within a short, bounded wait, without a restart. A broken file costs only
// itself; an unreadable directory costs nothing (the last good version stays).

import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { KnowledgeBase, type KbLogger } from '../../src/support/knowledgeBase.js';

const SHIPPED_KB = fileURLToPath(new URL('../../kb', import.meta.url));

/** Longest a change may take to show: the 200 ms debounce plus a generous margin for slow CI. */
const BOUND_MS = 3000;

interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(): KbLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const add = (level: LogLine['level']) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, info: add('info'), warn: add('warn'), error: add('error') };
}

async function eventually(what: string, check: () => boolean, boundMs = BOUND_MS): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > boundMs) assert.fail(`not within ${boundMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function entryFile(title: string, questions: string, body: string): string {
  return `---\ntitle: ${title}\ntags: test\nquestions: ${questions}\n---\n${body}\n`;
}

describe('knowledge base reload', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'warden-kb-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function freshCopy(name: string): Promise<string> {
    const dir = join(root, name);
    await cp(SHIPPED_KB, dir, { recursive: true });
    return dir;
  }

  test('added, changed and deleted files are picked up without a restart', async () => {
    const dir = await freshCopy('watch');
    const logger = recordingLogger();
    const kb = await KnowledgeBase.load(dir, { logger, watch: true });
    try {
      const before = kb.entries().length;
      assert.equal(kb.best('split tunneling only for office subnets'), null);

      // Added.
      await writeFile(
        join(dir, 'split-tunnel.md'),
        entryFile('Can I send only office traffic through the VPN?', 'split tunneling; only office subnets through the vpn', 'Ask an admin for a split-tunnel configuration.'),
      );
      const addedAfter = await eventually('the new entry answers', () => kb.best('split tunneling only for office subnets')?.entry.id === 'split-tunnel');
      assert.equal(kb.entries().length, before + 1);

      // Changed: a new phrasing in an existing entry's questions, and a new body.
      await writeFile(
        join(dir, 'support.md'),
        entryFile('How do I talk to a human?', 'is there a helpdesk hotline; contact admin', 'Send /support and your question.'),
      );
      await eventually('the changed entry answers its new question', () => kb.best('helpdesk hotline')?.entry.id === 'support');
      assert.equal(kb.get('support')?.body, 'Send /support and your question.');

      // Deleted.
      assert.equal(kb.best('why am i banned')?.entry.id, 'ban');
      await unlink(join(dir, 'ban.md'));
      await eventually('the deleted entry is gone', () => kb.get('ban') === undefined);
      assert.notEqual(kb.best('why am i banned')?.entry.id, 'ban');
      assert.equal(kb.entries().length, before);

      assert.ok(addedAfter < BOUND_MS);
      assert.deepEqual(logger.lines.filter((l) => l.level !== 'info'), []);
    } finally {
      await kb.close();
    }
  });

  test('a broken file is skipped and logged; the rest keeps answering; fixing it brings it back', async () => {
    const dir = await freshCopy('broken');
    const logger = recordingLogger();
    const kb = await KnowledgeBase.load(dir, { logger, watch: true });
    try {
      const count = kb.entries().length;

      // A new file without front matter.
      await writeFile(join(dir, 'half-written.md'), 'Just some text, no front matter.\n');
      await eventually('the broken file is logged', () => logger.lines.some((l) => l.level === 'warn' && l.obj.file === 'half-written.md'));
      const warning = logger.lines.find((l) => l.obj.file === 'half-written.md')!;
      assert.match(String(warning.obj.err), /half-written\.md: must start with a front matter block/);
      assert.equal(kb.entries().length, count);
      assert.equal(kb.best('nothing loads after connecting')?.entry.id, 'approval-waiting');

      // An existing entry broken by an edit (body removed): only that entry goes.
      await writeFile(join(dir, 'ban.md'), '---\ntitle: What is a ban?\n---\n\n');
      await eventually('the broken entry is skipped', () => kb.get('ban') === undefined);
      assert.ok(logger.lines.some((l) => l.level === 'warn' && l.obj.file === 'ban.md' && /is empty/.test(String(l.obj.err))));
      assert.equal(kb.entries().length, count - 1);
      assert.equal(kb.best('how do i add my laptop')?.entry.id, 'add-device');

      // Fixed again.
      await writeFile(join(dir, 'ban.md'), entryFile('What is a ban and when is it lifted?', 'why am i banned', 'It lifts by itself.'));
      await eventually('the fixed entry is back', () => kb.best('why am i banned')?.entry.id === 'ban');
    } finally {
      await kb.close();
    }
  });

  test('a burst of changes is read once the files settle', async () => {
    const dir = await freshCopy('burst');
    const logger = recordingLogger();
    const kb = await KnowledgeBase.load(dir, { logger, watch: true });
    try {
      const loadsBefore = logger.lines.filter((l) => l.msg === 'knowledge base loaded').length;
      for (let i = 0; i < 10; i++) {
        await writeFile(join(dir, `burst-${i}.md`), entryFile(`Burst question number ${i}`, `burst ${i}`, `Answer ${i}.`));
      }
      await eventually('all ten files are in', () => kb.entries().filter((e) => e.id.startsWith('burst-')).length === 10);
      await sleep(400);
      const reloads = logger.lines.filter((l) => l.msg === 'knowledge base loaded').length - loadsBefore;
      assert.ok(reloads >= 1 && reloads <= 3, `${reloads} reloads for 10 writes`);
    } finally {
      await kb.close();
    }
  });

  test('an unreadable directory keeps the previous version', async () => {
    const dir = await freshCopy('vanishing');
    const logger = recordingLogger();
    const kb = await KnowledgeBase.load(dir, { logger });
    const count = kb.entries().length;
    await rm(dir, { recursive: true });
    const result = await kb.reload();
    assert.equal(result.status, 'kept');
    assert.equal(kb.entries().length, count);
    assert.equal(kb.best('i got a new phone')?.entry.id, 'new-phone');
    assert.ok(logger.lines.some((l) => l.level === 'error' && /keeping the previous version/.test(l.msg)));
    await kb.close();
  });

  test('a watched directory that is removed keeps the last version', async () => {
    const dir = await freshCopy('removed-while-watched');
    const logger = recordingLogger();
    const kb = await KnowledgeBase.load(dir, { logger, watch: true });
    try {
      const count = kb.entries().length;
      await rm(dir, { recursive: true });
      await eventually('the failure is logged', () => logger.lines.some((l) => l.level === 'error'));
      await sleep(300);
      assert.equal(kb.entries().length, count);
      assert.equal(kb.best('qr code import')?.entry.id, 'wireguard-import');
    } finally {
      await kb.close();
    }
  });

  test('reload() without watching; close() stops watching', async () => {
    const dir = await freshCopy('manual');
    const logger = recordingLogger();
    const kb = await KnowledgeBase.load(dir, { logger, watch: true });
    await kb.close();
    await writeFile(join(dir, 'late.md'), entryFile('A late entry about zeppelins', 'zeppelin', 'Zeppelins.'));
    await sleep(500);
    assert.equal(kb.get('late'), undefined, 'a closed base does not watch');
    const result = await kb.reload();
    assert.deepEqual(result.status === 'reloaded' && result.skipped, []);
    assert.equal(kb.best('zeppelin')?.entry.id, 'late');
  });

  test('loading an unreadable directory is an error; an empty one loads with a warning', async () => {
    await assert.rejects(KnowledgeBase.load(join(root, 'does-not-exist'), { logger: recordingLogger() }), /cannot read .*does-not-exist/);
    const empty = join(root, 'empty');
    await cp(SHIPPED_KB, empty, { recursive: true, filter: (src) => !src.endsWith('.md') });
    const logger = recordingLogger();
    const kb = await KnowledgeBase.load(empty, { logger });
    assert.deepEqual(kb.entries(), []);
    assert.equal(kb.best('why am i banned'), null);
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /no entries/.test(l.msg)));
  });

  test('two entries that fit a question equally well give no confident answer', async () => {
    const dir = join(root, 'tie');
    await cp(SHIPPED_KB, dir, { recursive: true, filter: (src) => !src.endsWith('.md') });
    const text = entryFile('How do I reset the modem?', 'modem reset', 'Hold the button.');
    await writeFile(join(dir, 'modem-a.md'), text);
    await writeFile(join(dir, 'modem-b.md'), text);
    await writeFile(join(dir, 'other.md'), entryFile('Something else entirely', 'unrelated', 'Other.'));
    const kb = await KnowledgeBase.load(dir, { logger: recordingLogger() });
    const hits = kb.search('how do I reset the modem');
    assert.deepEqual(hits.map((h) => h.entry.id).sort(), ['modem-a', 'modem-b']);
    assert.equal(hits[0]!.confident, false);
    assert.equal(kb.best('how do I reset the modem'), null);
  });
});
