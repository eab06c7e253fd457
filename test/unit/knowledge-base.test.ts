// The support knowledge base: the entry format, the shipped kb/ content, and whether real user
// phrasings find the right answer confidently while off-topic questions find none. The two
// tables below are what the confidence rule (CONFIDENCE in src/support/knowledgeBase.ts) is
// tuned against: when an entry is added or reworded, add its phrasings here.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { KbEntryError, KnowledgeBase, defaultKbDir, parseKbEntry, stem, type KbLogger } from '../../src/support/knowledgeBase.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHIPPED_KB = join(PACKAGE_ROOT, 'kb');

interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

function recordingLogger(): KbLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
  };
}

const VALID = ['---', 'title: Why does my connection wait for approval?', 'tags: approval, sandbox', 'questions: a; b, c', '---', '', 'Answer **here**.', ''].join('\n');

describe('parseKbEntry', () => {
  test('reads title, lists and a trimmed body', () => {
    assert.deepEqual(parseKbEntry('approval', VALID), {
      id: 'approval',
      title: 'Why does my connection wait for approval?',
      tags: ['approval', 'sandbox'],
      questions: ['a', 'b, c'],
      body: 'Answer **here**.',
    });
  });

  test('lists: semicolons when present, else commas; tags and questions are optional', () => {
    const entry = parseKbEntry('x', '---\ntitle: T\ntags: one,  two ,,three\n---\nBody');
    assert.deepEqual(entry.tags, ['one', 'two', 'three']);
    assert.deepEqual(entry.questions, []);
    assert.deepEqual(parseKbEntry('x', '---\ntitle: T\nquestions: is it on, or off?; why\n---\nB').questions, ['is it on, or off?', 'why']);
    assert.deepEqual(parseKbEntry('x', '---\ntitle: T\n---\nB').tags, []);
  });

  test('accepts a byte order mark, CRLF line ends, blank and # comment lines in the front matter', () => {
    const entry = parseKbEntry('crlf', '\uFEFF---\r\ntitle: T: with a colon\r\n\r\n# note\r\ntags: a\r\n---\r\nLine 1\r\nLine 2\r\n');
    assert.equal(entry.title, 'T: with a colon');
    assert.equal(entry.body, 'Line 1\nLine 2');
  });

  const broken: Array<[string, string, RegExp]> = [
    ['no front matter', 'title: T\n\nBody', /must start with a front matter block/],
    ['unclosed front matter', '---\ntitle: T\nBody', /not closed/],
    ['no title', '---\ntags: a\n---\nBody', /has no title/],
    ['empty title', '---\ntitle:   \n---\nBody', /title is empty/],
    ['unknown key', '---\ntitle: T\ntag: a\n---\nBody', /unknown front matter key "tag"/],
    ['duplicate key', '---\ntitle: T\ntitle: U\n---\nBody', /"title" appears twice/],
    ['line without a key', '---\ntitle: T\njust words\n---\nBody', /line 3 is not "key: value"/],
    ['empty body', '---\ntitle: T\n---\n  \n\n', /answer .* is empty/],
    ['body too long', `---\ntitle: T\n---\n${'x'.repeat(3001)}`, /3001 characters, over 3000/],
  ];
  for (const [problem, text, message] of broken) {
    test(`refuses ${problem}, naming the file`, () => {
      assert.throws(
        () => parseKbEntry('broken-entry', text),
        (err: unknown) => err instanceof KbEntryError && err.file === 'broken-entry.md' && /broken-entry\.md/.test(err.message) && message.test(err.message),
      );
    });
  }

  test('a body of exactly 3000 characters is accepted', () => {
    assert.equal(parseKbEntry('x', `---\ntitle: T\n---\n${'x'.repeat(3000)}`).body.length, 3000);
  });

  test('refuses a file name that is not a plain id', () => {
    assert.throws(() => parseKbEntry('../etc', VALID), /file name/);
    assert.throws(() => parseKbEntry('', VALID), /file name/);
  });
});

test('stem: a few suffix rules, the same for the index and for questions', () => {
  assert.equal(stem('connecting'), stem('connected'));
  assert.equal(stem('connects'), 'connect');
  assert.equal(stem('banned'), 'ban');
  assert.equal(stem('devices'), stem('device'));
  assert.equal(stem('approved'), stem('approve'));
  assert.equal(stem('complete'), stem('complet'));
  assert.equal(stem('denied'), 'deny');
  assert.equal(stem('address'), 'address');
  assert.equal(stem('status'), 'status');
  assert.equal(stem('vpn'), 'vpn');
});

test('the default directory is kb/ in the package root; KB_DIR overrides it', () => {
  assert.equal(defaultKbDir(), SHIPPED_KB.replace(/[\\/]$/, ''));
  assert.ok(existsSync(join(defaultKbDir(), 'approval-waiting.md')));
  assert.equal(defaultKbDir('some/where'), resolve('some/where'));
});

describe('the shipped knowledge base', () => {
  let kb: KnowledgeBase;
  const logger = recordingLogger();
  before(async () => {
    kb = await KnowledgeBase.load(undefined, { logger });
  });

  test('loads every file without a warning', () => {
    assert.deepEqual(
      logger.lines.filter((l) => l.level !== 'info'),
      [],
    );
    assert.ok(kb.entries().length >= 10 && kb.entries().length <= 14, `${kb.entries().length} entries`);
    assert.equal(kb.get('readme'), undefined, 'kb/README.md is documentation, not an entry');
  });

  test('every answer fits one chat message (1500 characters) and has tags and questions', () => {
    for (const entry of kb.entries()) {
      assert.ok(entry.body.length <= 1500, `${entry.id}: ${entry.body.length} characters`);
      assert.ok(entry.tags.length > 0 && entry.questions.length > 0, `${entry.id}: no tags or questions`);
      assert.match(entry.id, /^[a-z0-9-]+$/);
    }
  });

  test('every entry is found, confidently, by its own title and by each of its questions', () => {
    const misses: string[] = [];
    for (const entry of kb.entries()) {
      for (const question of [entry.title, ...entry.questions]) {
        const found = kb.best(question)?.entry.id;
        if (found !== entry.id) misses.push(`${entry.id}: "${question}" found ${found ?? 'nothing confident'}`);
      }
    }
    assert.deepEqual(misses, []);
  });

  test('get() and entries() agree', () => {
    for (const entry of kb.entries()) assert.equal(kb.get(entry.id), entry);
    assert.equal(kb.get('no-such-entry'), undefined);
  });

  // What users really type: short, lower case, typos, no question marks, chatty.
  const paraphrases: Array<[string, string]> = [
    ['handshake did not complet', 'wireguard-handshake'],
    ['Handshake didnt complete, retrying', 'wireguard-handshake'],
    ['my tunnel wont connect', 'wireguard-handshake'],
    ['wireguard shows received 0 B', 'wireguard-handshake'],
    ['handshake did not complet on my android phone', 'wireguard-handshake'],
    ['how do i add my laptop', 'add-device'],
    ['can i use vpn on my computer too', 'add-device'],
    ['device limit reached', 'add-device'],
    ['i got a new phone', 'new-phone'],
    ['I lost my phone', 'new-phone'],
    ['my phone got stolen', 'new-phone'],
    ['why am i banned', 'ban'],
    ['why am i banned lol', 'ban'],
    ['when will the ban be lifted', 'ban'],
    ['i pressed deny by mistake', 'ban'],
    ["I'm banned", 'ban'],
    ['how do i unban myself', 'ban'],
    ['qr code import', 'wireguard-import'],
    ['how do i scan the qr', 'wireguard-import'],
    ['import the conf file on my mac', 'wireguard-import'],
    ['nothing loads after connecting', 'approval-waiting'],
    ['connected but no internet', 'approval-waiting'],
    ['websites dont open when vpn is on', 'approval-waiting'],
    ['what does expired mean', 'approval-waiting'],
    ['prompt expired', 'approval-waiting'],
    ['the vpn keeps asking me to approve', 'approval-waiting'],
    ['hi, since this morning my iphone vpn connects but nothing loads, what should I do?', 'approval-waiting'],
    ['I didnt get the approve message', 'no-prompt'],
    ["I didn't get the approve message", 'no-prompt'],
    ['discord dm prompt', 'no-prompt'],
    ['where can I download the wireguard app', 'wireguard-install'],
    ['wireguard app for iphone', 'wireguard-install'],
    ['vpn on android', 'wireguard-install'],
    ['how do I put the vpn on my ipad', 'wireguard-install'],
    ['send me my config again', 'resend-config'],
    ['I deleted the tunnel by accident', 'resend-config'],
    ['I forgot my vpn password', 'resend-config'],
    ['qr code again', 'resend-config'],
    ['how to set up l2tp on windows', 'ppp-setup'],
    ['sstp certificate error', 'ppp-setup'],
    ['what is the l2tp pre shared key', 'ppp-setup'],
    ["what's the password for l2tp", 'ppp-setup'],
    ['how do i get access to the vpn', 'signup'],
    ['i have an invite code what now', 'signup'],
    ['i want to talk to a real person', 'support'],
    ['contact admin', 'support'],
  ];
  for (const [question, id] of paraphrases) {
    test(`"${question}" -> ${id}`, () => {
      const hits = kb.search(question);
      assert.equal(hits[0]?.entry.id, id, `found ${hits.slice(0, 3).map((h) => `${h.entry.id} ${h.score.toFixed(1)}`).join(', ')}`);
      assert.equal(hits[0]?.confident, true, 'not confident');
      assert.equal(kb.best(question)?.entry.id, id);
    });
  }

  // Questions the base cannot answer: they must go to a human rather than get a wrong article.
  // The last two share words with entries ("ip", "address", "server") and still must not hit.
  const offTopic = [
    'what is the weather',
    'my printer is broken',
    'asdf',
    'tell me a joke',
    'how do I cook pasta',
    'what time is it in Tokyo',
    'bitcoin price today',
    'who won the football game',
    'my email does not work',
    'is the office open on sunday',
    'I need help',
    'hello',
    '',
    '   ?!  ',
    'what is my ip address',
    'restart the server please',
  ];
  for (const question of offTopic) {
    test(`off topic: ${JSON.stringify(question)} has no confident answer`, () => {
      assert.equal(kb.best(question), null);
      assert.ok(kb.search(question).every((h) => !h.confident));
    });
  }

  test('only the best hit can be confident, and hits come best first', () => {
    for (const [question] of paraphrases) {
      const hits = kb.search(question);
      assert.ok(hits.slice(1).every((h) => !h.confident), question);
      for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score, question);
    }
  });
});
