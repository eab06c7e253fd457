// Reading REST request bodies: JSON, or multipart/form-data with `payload_json` and
// `files[n]` parts as discord.js sends uploads. Multipart is parsed by the platform's own
// FormData parser (undici, via Response#formData), not a hand-rolled one.

import type http from 'node:http';
import { DiscordApiError, ERR } from './errors.js';

export interface UploadedFile {
  /** The form field, e.g. `files[0]`. */
  field: string;
  /** n of `files[n]`, matched against `attachments[].id` in the payload. */
  index: number | undefined;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface ParsedBody {
  json: unknown;
  files: UploadedFile[];
  multipart: boolean;
}

const FILE_FIELD = /^files\[(\d+)\]$/;

export class BodyTooLargeError extends Error {}

async function readRaw(request: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw ERR.invalidJson();
  }
}

export async function readBody(request: http.IncomingMessage, maxBytes: number): Promise<ParsedBody> {
  const raw = await readRaw(request, maxBytes);
  const contentType = request.headers['content-type'] ?? '';
  if (contentType.toLowerCase().startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw new DiscordApiError(400, 0, '400: Bad Request');
    }
    let json: unknown = undefined;
    const files: UploadedFile[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') json = parseJson(value);
        // Other text fields would be form-encoded JSON fields; discord.js never sends them.
        continue;
      }
      const match = FILE_FIELD.exec(field);
      files.push({
        field,
        index: match === null ? undefined : Number(match[1]),
        filename: value.name,
        contentType: value.type,
        bytes: Buffer.from(await value.arrayBuffer()),
      });
    }
    return { json, files, multipart: true };
  }
  if (raw.length === 0) return { json: undefined, files: [], multipart: false };
  return { json: parseJson(raw.toString('utf8')), files: [], multipart: false };
}
