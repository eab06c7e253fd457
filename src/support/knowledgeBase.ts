// The support desk's knowledge base: short answers in `kb/*.md` (one question per file, a small
// front matter block, a Markdown body), searched with MiniSearch so a user's question can be
// answered before a ticket is opened. The files are content, edited by people who run the
// service, so the base reloads them without a restart (optionally on file changes) and a broken
// file costs only that one answer, never the whole base.
//
// Owns: the entry format (parseKbEntry), the search and its confidence rule. Not the chat
// wording around an answer, nor tickets: the support feature decides what to do with a hit.
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import MiniSearch, { type SearchResult } from 'minisearch';

import { createLogger } from '../log.js';

export interface KbEntry {
  /** The file name without `.md`. */
  id: string;
  title: string;
  tags: string[];
  /** Phrasings users write; matched like the title. */
  questions: string[];
  /** The answer, Markdown, trimmed. */
  body: string;
}

export interface KbHit {
  entry: KbEntry;
  score: number;
  /** Whether this hit is good enough to answer the question with (see CONFIDENCE). */
  confident: boolean;
}

/** What the base needs of a logger; pino's Logger fits. */
export interface KbLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KnowledgeBaseOptions {
  logger?: KbLogger;
  /** Reload when a file in the directory changes (debounced). */
  watch?: boolean;
}

export type KbReloadResult =
  | { status: 'reloaded'; entries: number; skipped: Array<{ file: string; error: string }> }
  | { status: 'kept'; error: string };

/** Limit of the parser; the shipped answers keep to 1500 so they fit one chat message. */
export const KB_BODY_MAX_CHARS = 3000;

/** Files in the directory that are not entries. */
const NOT_ENTRIES = new Set(['readme.md']);

const WATCH_DEBOUNCE_MS = 200;

export class KbEntryError extends Error {
  constructor(
    public readonly file: string,
    public readonly problem: string,
  ) {
    super(`knowledge base entry ${file}: ${problem}`);
    this.name = 'KbEntryError';
  }
}

// ---------------------------------------------------------------------------------------------
// Entry format

const FRONT_MATTER_KEYS = new Set(['title', 'tags', 'questions']);

/** `a; b, c; d` -> [`a`, `b, c`, `d`]: a list with a `;` is split only there (questions have commas). */
function parseList(value: string): string[] {
  const separator = value.includes(';') ? ';' : ',';
  return value
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * Parses one entry file. Strict, so a mistake shows up as an error naming the file instead of an
 * answer that silently never matches: the front matter (`---` lines) must open the file, hold
 * only `title` (required, non-empty), `tags` and `questions`, each once; the body must be
 * non-empty and at most KB_BODY_MAX_CHARS.
 */
export function parseKbEntry(id: string, text: string): KbEntry {
  const file = `${id}.md`;
  const fail: (problem: string) => never = (problem) => {
    throw new KbEntryError(file, problem);
  };
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(id)) fail('the file name must be letters, digits, "-" or "_" followed by .md');
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '---') fail('must start with a front matter block (a line "---")');
  const end = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (end === -1) fail('the front matter block is not closed (no second line "---")');

  const fields = new Map<string, string>();
  for (let i = 1; i < end; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = /^\s*([A-Za-z]+)\s*:(.*)$/.exec(line);
    if (!match) fail(`front matter line ${i + 1} is not "key: value"`);
    const key = match[1]!.toLowerCase();
    if (!FRONT_MATTER_KEYS.has(key)) fail(`unknown front matter key "${key}" (line ${i + 1}; allowed: title, tags, questions)`);
    if (fields.has(key)) fail(`front matter key "${key}" appears twice`);
    fields.set(key, match[2]!.trim());
  }
  const title = fields.get('title');
  if (title === undefined) fail('the front matter has no title');
  if (title === '') fail('the title is empty');
  const body = lines.slice(end + 1).join('\n').trim();
  if (body === '') fail('the answer (the text after the front matter) is empty');
  if (body.length > KB_BODY_MAX_CHARS) fail(`the answer is ${body.length} characters, over ${KB_BODY_MAX_CHARS}`);
  return {
    id,
    title,
    tags: parseList(fields.get('tags') ?? ''),
    questions: parseList(fields.get('questions') ?? ''),
    body,
  };
}

// ---------------------------------------------------------------------------------------------
// Text processing (index and queries alike)

// English function words plus chat filler: they say nothing about which answer fits, and left in
// they would make any chatty question look like a partial match. "help" is here on purpose:
// "I need help" is not a question the base can answer; it should go to a human.
const STOP_WORDS = new Set(
  (
    'a about above after against all am an and any are aren as at be because been before being below between both but by ' +
    'can cannot could couldn d did didn do does doesn doing don down during each few for from further had hadn has hasn have haven having ' +
    'he her here hers herself him himself his how i if in into is isn it its itself just ll m me might more most must mustn my myself ' +
    'no nor not now o of off on once only or other ought our ours ourselves out over own re s same shan she should shouldn so some ' +
    'such t than that the their theirs them themselves then there these they this those through to too under until up ve very was ' +
    'wasn we were weren what when where which while who whom why will with won would wouldn y you your yours yourself yourselves ' +
    'hi hello hey please pls plz thanks thank thx ok okay help anyone someone something get got also still really im ive id dont cant ' +
    'wont isnt doesnt didnt need want know tell vpn warden'
  ).split(' '),
);

/** Words: runs of letters and digits ("/config", "`code`", ".conf" are plain words; "didn't" is "didnt"). */
function tokenize(text: string): string[] {
  return text
    .replace(/['’]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== '');
}

/**
 * A light English stemmer (a few of Porter's suffix rules): enough for "connecting" to meet
 * "connected", "banned" to meet "ban" and "devices" to meet "device", without a dependency.
 */
export function stem(word: string): string {
  if (word.length <= 4) return word;
  let t = word;
  if (t.endsWith('ies') || t.endsWith('ied')) return t.slice(0, -3) + 'y';
  let stripped = true;
  if (t.endsWith('ing') && t.length >= 6) t = t.slice(0, -3);
  else if (t.endsWith('ed') && t.length >= 5) t = t.slice(0, -2);
  else if (/(ss|x|ch|sh)es$/.test(t)) t = t.slice(0, -2);
  else if (t.endsWith('s') && !/(ss|us|is)$/.test(t)) t = t.slice(0, -1);
  else stripped = false;
  // "bann(ed)" -> "ban", "stopp(ed)" -> "stop"
  if (stripped && /([bcdfghjkmnpqrtvwxy])\1$/.test(t)) t = t.slice(0, -1);
  if (t.length > 4 && t.endsWith('e')) t = t.slice(0, -1);
  return t;
}

function processTerm(term: string): string | null {
  const word = term
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  if (word.length < 2 || STOP_WORDS.has(word)) return null;
  return stem(word);
}

/** The distinct terms a question is searched with. */
function queryTerms(question: string): string[] {
  const terms = new Set<string>();
  for (const token of tokenize(question)) {
    const term = processTerm(token);
    if (term !== null) terms.add(term);
  }
  return [...terms];
}

// ---------------------------------------------------------------------------------------------
// Search and confidence

interface IndexedEntry {
  id: string;
  title: string;
  tags: string;
  questions: string;
  body: string;
}

const SEARCH_OPTIONS = {
  // Title, questions and tags are written to be matched; the body explains and mentions many things.
  boost: { title: 3, questions: 3, tags: 2, body: 1 },
  fuzzy: 0.2,
  prefix: true,
  combineWith: 'OR',
} as const;

/**
 * CONFIDENCE — when the best hit may answer the question on its own.
 *
 * MiniSearch's score sums the BM25 contributions of the query terms that matched an entry
 * (times the field boost; prefix and fuzzy matches count less) and multiplies the sum by the
 * number of query terms that matched, so it grows with the length of the question and with the
 * size of the base. It is normalised against both:
 *
 *   evidence = score / (matched terms × query terms × idf1)
 *
 * where query terms are the distinct words left after stop words, and idf1 is the BM25 weight of
 * a word found in just one entry. Evidence is then the average contribution of one word of the
 * question (a word that matched nothing adds 0), in idf1 units: a word found in an entry's title,
 * questions and tags adds 5-15; a word found only in the body, or only fuzzily, 1-3.
 * Coverage is the share of the question's words that matched the entry.
 *
 * The best hit is confident when all of these hold:
 *   1. evidence ≥ MIN_EVIDENCE: most words of the question are words the entry is written to be
 *      found by. "the internet at home is slow" shares "internet" with the approval entry
 *      (evidence 2.8), "what is my ip address" shares "ip" and "address" with the ban entry (2.6);
 *      real paraphrases score 3.6 ("websites dont open when vpn is on") and usually 5-15;
 *   2. coverage ≥ MIN_COVERAGE: at least half of the question's words matched it
 *      ("what time is it in tokyo" matches only "time");
 *   3. it is ahead of the runner-up: score ≥ MIN_MARGIN × the runner-up's, or, when its evidence
 *      is strong (≥ STRONG_EVIDENCE), anything but a tie (≥ MIN_STRONG_MARGIN). Two entries that
 *      fit equally well mean the question is ambiguous, and a human does better than a coin toss.
 *
 * The numbers were tuned with the paraphrase and off-topic tables in
 * test/unit/knowledge-base.test.ts; change them together with those tables. A question that
 * misses goes to a human, which is the safe failure.
 */
export const CONFIDENCE = { MIN_EVIDENCE: 3.2, MIN_COVERAGE: 0.5, MIN_MARGIN: 1.3, STRONG_EVIDENCE: 4, MIN_STRONG_MARGIN: 1.05 } as const;

interface Scored {
  result: SearchResult;
  evidence: number;
  coverage: number;
}

/** BM25's inverse document frequency of a term found in one entry of `documents` (MiniSearch's formula). */
function rarestTermIdf(documents: number): number {
  return Math.log(1 + (documents - 1 + 0.5) / (1 + 0.5));
}

function isConfident(best: Scored, runnerUp: Scored | undefined): boolean {
  if (best.evidence < CONFIDENCE.MIN_EVIDENCE || best.coverage < CONFIDENCE.MIN_COVERAGE) return false;
  if (runnerUp === undefined) return true;
  const margin = best.result.score / runnerUp.result.score;
  return margin >= CONFIDENCE.MIN_MARGIN || (best.evidence >= CONFIDENCE.STRONG_EVIDENCE && margin >= CONFIDENCE.MIN_STRONG_MARGIN);
}

function buildIndex(entries: Iterable<KbEntry>): MiniSearch<IndexedEntry> {
  const index = new MiniSearch<IndexedEntry>({
    fields: ['title', 'tags', 'questions', 'body'],
    tokenize,
    processTerm,
    searchOptions: SEARCH_OPTIONS,
  });
  index.addAll(
    [...entries].map((e) => ({ id: e.id, title: e.title, tags: e.tags.join(' ; '), questions: e.questions.join(' ; '), body: e.body })),
  );
  return index;
}

// ---------------------------------------------------------------------------------------------
// Loading

/** The package root: the nearest folder with package.json above this module (src/ via tsx, or dist/src/). */
function findPackageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`knowledge base: no package.json found above ${start}`);
    dir = parent;
  }
}

/** `<package root>/kb`, or `kbDir` (KB_DIR) when given, resolved against the working directory. */
export function defaultKbDir(kbDir?: string): string {
  return kbDir ? resolve(kbDir) : join(findPackageRoot(), 'kb');
}

async function readEntries(dir: string): Promise<{ entries: Map<string, KbEntry>; skipped: Array<{ file: string; error: string }> }> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => (d.isFile() || d.isSymbolicLink()) && d.name.endsWith('.md') && !d.name.startsWith('.') && !NOT_ENTRIES.has(d.name.toLowerCase()))
    .map((d) => d.name)
    .sort();
  const entries = new Map<string, KbEntry>();
  const skipped: Array<{ file: string; error: string }> = [];
  for (const name of names) {
    try {
      const entry = parseKbEntry(name.slice(0, -'.md'.length), await readFile(join(dir, name), 'utf8'));
      entries.set(entry.id, entry);
    } catch (err) {
      // Does not parse, or vanished between readdir and readFile (an editor's atomic save; the
      // change event that follows reloads it).
      skipped.push({ file: name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { entries, skipped };
}

export class KnowledgeBase {
  private entryMap = new Map<string, KbEntry>();
  private index: MiniSearch<IndexedEntry> = buildIndex([]);
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  /** Reloads run one after another, so an older read never overwrites a newer one. */
  private reloading: Promise<KbReloadResult> | null = null;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly logger: KbLogger,
  ) {}

  /**
   * Reads every entry in `dir` (default: `<package root>/kb`). Broken files are logged and
   * skipped; a directory that cannot be read is an error here, since there is no previous version
   * to fall back on. With `watch`, changes are picked up without a restart; call close() to stop.
   */
  static async load(dir: string = defaultKbDir(), opts: KnowledgeBaseOptions = {}): Promise<KnowledgeBase> {
    const kb = new KnowledgeBase(resolve(dir), opts.logger ?? createLogger(process.env.LOG_LEVEL ?? 'info', { module: 'knowledge-base' }));
    const result = await kb.reload();
    if (result.status === 'kept') throw new Error(`knowledge base: cannot read ${kb.dir}: ${result.error}`);
    if (opts.watch) kb.startWatching();
    return kb;
  }

  entries(): KbEntry[] {
    return [...this.entryMap.values()];
  }

  get(id: string): KbEntry | undefined {
    return this.entryMap.get(id);
  }

  /** Entries matching the question, best first. Only the first can be `confident` (see CONFIDENCE). */
  search(question: string): KbHit[] {
    const terms = queryTerms(question);
    if (terms.length === 0) return [];
    const rarest = rarestTermIdf(this.index.documentCount);
    // The terms are processed already (and stemming twice is not the same as stemming once).
    const scored: Scored[] = this.index.search(terms.join(' '), { processTerm: (t) => t }).map((result) => ({
      result,
      evidence: result.score / (result.queryTerms.length * terms.length * rarest),
      coverage: result.queryTerms.length / terms.length,
    }));
    return scored.flatMap((s, i) => {
      const entry = this.entryMap.get(s.result.id as string);
      return entry ? [{ entry, score: s.result.score, confident: i === 0 && isConfident(s, scored[1]) }] : [];
    });
  }

  /** The answer to give, or null when no entry fits confidently (then a human should). */
  best(question: string): { entry: KbEntry; score: number } | null {
    const top = this.search(question)[0];
    return top?.confident ? { entry: top.entry, score: top.score } : null;
  }

  /**
   * Re-reads the directory and swaps in the new base at once. A broken file is logged and
   * skipped; if the directory cannot be read at all, the previous base is kept.
   */
  reload(): Promise<KbReloadResult> {
    const previous = this.reloading ?? Promise.resolve(null);
    const next = previous.then(() => this.readAndSwap());
    this.reloading = next;
    void next.finally(() => {
      if (this.reloading === next) this.reloading = null;
    });
    return next;
  }

  /** Stops watching; waits for a reload in progress. The base stays searchable. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
    this.watcher?.close();
    this.watcher = null;
    await this.reloading;
  }

  /** Never rejects: whatever goes wrong is logged and the previous version stays. */
  private async readAndSwap(): Promise<KbReloadResult> {
    let read: Awaited<ReturnType<typeof readEntries>>;
    let index: MiniSearch<IndexedEntry>;
    try {
      read = await readEntries(this.dir);
      index = buildIndex(read.entries.values());
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.logger.error({ dir: this.dir, err: error }, 'knowledge base: cannot read the directory; keeping the previous version');
      return { status: 'kept', error };
    }
    for (const s of read.skipped) this.logger.warn({ dir: this.dir, file: s.file, err: s.error }, 'knowledge base: entry skipped');
    this.index = index;
    this.entryMap = read.entries;
    if (read.entries.size === 0) this.logger.warn({ dir: this.dir }, 'knowledge base: no entries');
    else this.logger.info({ dir: this.dir, entries: read.entries.size, skipped: read.skipped.length }, 'knowledge base loaded');
    return { status: 'reloaded', entries: read.entries.size, skipped: read.skipped };
  }

  private startWatching(): void {
    try {
      // Not persistent: the knowledge base is never what keeps the process alive.
      this.watcher = watch(this.dir, { persistent: false }, () => this.scheduleReload());
    } catch (err) {
      // E.g. the inotify watch limit: answers still work, only edits need reload() or a restart.
      this.logger.error({ dir: this.dir, err: err instanceof Error ? err.message : String(err) }, 'knowledge base: cannot watch the directory; changes need a reload');
      return;
    }
    this.watcher.on('error', (err) => {
      // The directory was removed or replaced: keep answering from the last version.
      this.logger.error({ dir: this.dir, err: err.message }, 'knowledge base: watching stopped; keeping the last version');
      this.watcher?.close();
      this.watcher = null;
    });
  }

  /** Editors write a file in several steps (and git touches many at once): reload once they settle. */
  private scheduleReload(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      if (!this.closed) void this.reload();
    }, WATCH_DEBOUNCE_MS);
    this.debounce.unref();
  }
}
