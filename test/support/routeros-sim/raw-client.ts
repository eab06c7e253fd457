// A bare RouterOS API connection for tests that need to see the wire: send exact words (or
// bytes), read back whole sentences. No library in between, so it can check the simulator
// (or a client's assumptions) at the protocol level.

import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

import { encodeSentence, SentenceDecoder } from './wire.js';

export class RawApiConnection {
  private readonly decoder = new SentenceDecoder();
  private readonly received: string[][] = [];
  private waiters: (() => void)[] = [];
  private closedFlag = false;
  /** Number of 'data' events seen: how many pieces the replies arrived in. */
  chunksReceived = 0;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunksReceived++;
      this.received.push(...this.decoder.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closedFlag = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawApiConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawApiConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  send(...words: string[]): void {
    this.socket.write(encodeSentence(words));
  }

  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Next sentence; rejects after timeoutMs or when the connection closes first. */
  async next(timeoutMs = 2000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sentence = this.received.shift();
      if (sentence) return sentence;
      if (this.closedFlag) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no sentence within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sentences up to and including the `!done` carrying `tag` (or the first untagged `!done`). */
  async until(tag?: string, timeoutMs = 2000): Promise<string[][]> {
    const out: string[][] = [];
    for (;;) {
      const sentence = await this.next(timeoutMs);
      out.push(sentence);
      if (sentence[0] === '!done' && tagOf(sentence) === tag) return out;
    }
  }

  /** Sends a command and collects its reply (through `!done`). */
  async command(words: string[], tag?: string): Promise<string[][]> {
    this.send(...words, ...(tag === undefined ? [] : [`.tag=${tag}`]));
    return this.until(tag);
  }

  /** Modern (6.43+) login. */
  async login(name: string, password: string): Promise<string[][]> {
    return this.command(['/login', `=name=${name}`, `=password=${password}`]);
  }

  /** Pre-6.43 challenge login: `/login`, then the MD5 response to `=ret=`. */
  async legacyLogin(name: string, password: string): Promise<string[][]> {
    const [challenge] = await this.command(['/login']);
    const ret = attributesOf(challenge!).ret ?? '';
    const response = '00' + createHash('md5').update(Buffer.concat([Buffer.from([0]), Buffer.from(password, 'latin1'), Buffer.from(ret, 'hex')])).digest('hex');
    return this.command(['/login', `=name=${name}`, `=response=${response}`]);
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export function tagOf(sentence: readonly string[]): string | undefined {
  return sentence.find((word) => word.startsWith('.tag='))?.slice(5);
}

/** `=name=value` words of a sentence as an object. */
export function attributesOf(sentence: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of sentence) {
    if (!word.startsWith('=')) continue;
    const eq = word.indexOf('=', 1);
    out[word.slice(1, eq)] = word.slice(eq + 1);
  }
  return out;
}
