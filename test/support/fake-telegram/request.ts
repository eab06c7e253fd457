// Reads Bot API parameters the way the Bot API server does: from the query string and a
// JSON, urlencoded or multipart body, flattened to string arguments (nested objects arrive
// re-encoded as JSON text) plus uploaded files. Typed accessors mirror the server's lenient
// conversions (to_integer, to_bool), so the fake accepts exactly the spellings Telegram does.

import type { IncomingMessage } from 'node:http';
import type { UploadedFile } from './types.js';

export class BodyTooLargeError extends Error {}
export class MalformedBodyError extends Error {}

export class ApiParams {
  constructor(
    private readonly args: Map<string, string>,
    private readonly files: Map<string, UploadedFile>,
  ) {}

  static fromObject(object: Record<string, unknown>, files = new Map<string, UploadedFile>()): ApiParams {
    const args = new Map<string, string>();
    for (const [key, value] of Object.entries(object)) {
      const flat = flatten(value);
      if (flat !== undefined) args.set(key, flat);
    }
    return new ApiParams(args, files);
  }

  /** The argument as text; undefined when absent. */
  str(name: string): string | undefined {
    return this.args.get(name);
  }

  has(name: string): boolean {
    return this.args.has(name) && this.args.get(name) !== '';
  }

  /** tdlib's to_integer: leading sign and digits, anything unparsable reads as 0. */
  int(name: string, fallback: number): number {
    const raw = this.args.get(name);
    if (raw === undefined || raw === '') return fallback;
    const match = /^\s*(-?\d+)/.exec(raw);
    return match === null ? 0 : Number(match[1]);
  }

  /** tdlib's to_bool: "true", "yes" or "1", case-insensitively. */
  bool(name: string): boolean {
    const raw = this.args.get(name)?.toLowerCase();
    return raw === 'true' || raw === 'yes' || raw === '1';
  }

  file(name: string): UploadedFile | undefined {
    return this.files.get(name);
  }

  /** A log-friendly copy: parsed JSON arguments, uploads summarised. */
  summary(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of this.args) {
      out[key] = /^[[{]/.test(value) ? safeJson(value) : value;
    }
    for (const [key, file] of this.files) {
      out[key] = { fileName: file.fileName, size: file.bytes.length };
    }
    return out;
  }
}

function flatten(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function readApiParams(request: IncomingMessage, query: URLSearchParams, maxBytes: number): Promise<ApiParams> {
  const args = new Map<string, string>(query);
  const files = new Map<string, UploadedFile>();
  const body = await readBody(request, maxBytes);
  const contentType = request.headers['content-type'] ?? '';
  if (body.length === 0) return new ApiParams(args, files);

  if (contentType.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new MalformedBodyError("can't parse JSON object");
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new MalformedBodyError("can't parse JSON object");
    }
    for (const [key, value] of Object.entries(parsed)) {
      const flat = flatten(value);
      if (flat !== undefined) args.set(key, flat);
    }
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) args.set(key, value);
  } else if (contentType.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Request('http://fake-telegram.invalid/', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      }).formData();
    } catch {
      throw new MalformedBodyError("can't parse multipart/form-data body");
    }
    for (const [key, value] of form) {
      if (typeof value === 'string') {
        args.set(key, value);
      } else {
        files.set(key, {
          fileName: value.name,
          contentType: value.type,
          bytes: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
  }
  return new ApiParams(args, files);
}
