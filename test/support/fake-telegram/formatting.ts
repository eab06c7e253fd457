// Message text formatting as the Bot API applies it: parse_mode HTML / MarkdownV2 / Markdown
// or explicit entities become plain text plus entities, then the text is cleaned and trimmed
// and its length checked. The parsers follow tdlib's (td/telegram/MessageEntity.cpp) closely
// enough to reject the same input with the same "can't parse entities: ..." texts, which are
// taken from tdlib's own test tables; offsets in errors are UTF-8 byte offsets like Telegram's.

import { badRequest, BotApiError, TEXT } from './errors.js';
import type { MessageEntity } from './types.js';

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

/** A markup syntax error; the message is what follows "can't parse entities: ". */
class MarkupError extends Error {}

const fail = (message: string): never => {
  throw new MarkupError(message);
};

const byteOffset = (source: string, index: number): number => Buffer.byteLength(source.slice(0, index), 'utf8');

const isSpace = (char: string | undefined): boolean =>
  char === ' ' || char === '\t' || char === '\r' || char === '\n' || char === '\v' || char === '\f';

export const codePointLength = (text: string): number => [...text].length;

// tdlib orders entities by offset, then longer first, then by a fixed type priority, so
// that e.g. a blockquote encloses the bold inside it. Tests compare entity arrays.
const TYPE_PRIORITY: Record<string, number> = {
  blockquote: 0,
  expandable_blockquote: 0,
  pre: 11,
  code: 20,
  text_link: 49,
  text_mention: 49,
  bold: 90,
  italic: 91,
  underline: 92,
  strikethrough: 93,
  spoiler: 94,
  custom_emoji: 99,
};

const sortEntities = (entities: MessageEntity[]): MessageEntity[] =>
  entities
    .map((entity, index) => ({ entity, index }))
    .sort(
      (a, b) =>
        a.entity.offset - b.entity.offset ||
        b.entity.length - a.entity.length ||
        (TYPE_PRIORITY[a.entity.type] ?? 50) - (TYPE_PRIORITY[b.entity.type] ?? 50) ||
        a.index - b.index,
    )
    .map(({ entity }) => entity);

// ---------------------------------------------------------------------------------------------
// URLs (text links, URL buttons)

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: string };

const TG_USER_LINK = /^tg:(?:\/\/)?user\?id=(\d{1,15})$/i;

export const userIdFromLink = (url: string): number | undefined => {
  const match = TG_USER_LINK.exec(url);
  return match?.[1] === undefined ? undefined : Number(match[1]);
};

/**
 * Telegram's idea of a valid link: http(s) with a real-looking host, or tg:/ton: links. The
 * text is kept as written (no percent-encoding), only the scheme and host are normalised and
 * an empty path becomes "/", as tdlib does.
 */
export function checkUrl(raw: string): UrlCheck {
  if (raw === '') return { ok: false, reason: 'URL host is empty' };
  if (/\s/.test(raw)) return { ok: false, reason: 'Wrong HTTP URL' };
  if (/^(tg|ton):/i.test(raw)) return { ok: true, url: raw };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    return { ok: false, reason: 'Unsupported URL protocol' };
  }
  const withScheme = scheme === undefined ? `http://${raw}` : raw;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { ok: false, reason: 'Wrong HTTP URL' };
  }
  const host = url.hostname;
  if (host === '') return { ok: false, reason: 'URL host is empty' };
  const isIpv4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
  const topLevel = host.split('.').pop() ?? '';
  const hasDomain = host.includes('.') && (/^[a-z]{2,}$/i.test(topLevel) || topLevel.startsWith('xn--'));
  if (!isIpv4 && !hasDomain) return { ok: false, reason: 'Wrong HTTP URL' };
  const parts = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(withScheme);
  if (parts === null) return { ok: false, reason: 'Wrong HTTP URL' };
  const rest = parts[3] ?? '';
  return { ok: true, url: `${parts[1]!.toLowerCase()}${parts[2]!.toLowerCase()}${rest.startsWith('/') ? rest : `/${rest}`}` };
}

// ---------------------------------------------------------------------------------------------
// HTML

const HTML_TAGS = new Set([
  'a', 'b', 'strong', 'i', 'em', 's', 'strike', 'del', 'u', 'ins',
  'tg-spoiler', 'tg-emoji', 'span', 'pre', 'code', 'blockquote',
]);

const HTML_NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** Decodes `&lt;`, `&#60;`, `&#x3c;` (the `;` is optional, as in tdlib); null leaves `&` literal. */
function decodeHtmlEntity(source: string, at: number): { codePoint: number; next: number } | null {
  let end = at + 1;
  let codePoint: number;
  if (source[end] === '#') {
    end++;
    const hex = source[end] === 'x' || source[end] === 'X';
    if (hex) end++;
    const digitsStart = end;
    while (end < source.length && (hex ? /[0-9a-f]/i : /[0-9]/).test(source[end]!)) end++;
    if (end === digitsStart || end - at >= 10) return null;
    codePoint = parseInt(source.slice(digitsStart, end), hex ? 16 : 10);
    if (codePoint === 0 || codePoint > 0x10ffff) return null;
  } else {
    while (end < source.length && /[a-z]/i.test(source[end]!)) end++;
    const decoded = HTML_NAMED_ENTITIES[source.slice(at + 1, end)];
    if (decoded === undefined) return null;
    codePoint = decoded.codePointAt(0)!;
  }
  if (source[end] === ';') end++;
  return { codePoint, next: end };
}

interface OpenHtmlTag {
  tag: string;
  argument: string;
  expandable: boolean;
  offset: number;
}

export function parseHtml(source: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const codeLanguages = new Map<MessageEntity, string>();
  const open: OpenHtmlTag[] = [];
  let hasLoneSurrogate = false;
  const n = source.length;
  let i = 0;

  const closeEntity = (top: OpenHtmlTag): void => {
    const offset = top.offset;
    const length = text.length - offset;
    if (length <= 0) return;
    const push = (entity: MessageEntity) => entities.push(entity);
    switch (top.tag) {
      case 'i': case 'em': return void push({ type: 'italic', offset, length });
      case 'b': case 'strong': return void push({ type: 'bold', offset, length });
      case 's': case 'strike': case 'del': return void push({ type: 'strikethrough', offset, length });
      case 'u': case 'ins': return void push({ type: 'underline', offset, length });
      case 'tg-spoiler': case 'span': return void push({ type: 'spoiler', offset, length });
      case 'blockquote':
        return void push({ type: top.expandable ? 'expandable_blockquote' : 'blockquote', offset, length });
      case 'tg-emoji':
        if (!/^[1-9]\d{0,18}$/.test(top.argument) || BigInt(top.argument) > 9223372036854775807n) {
          fail('Invalid custom emoji identifier specified');
        }
        return void push({ type: 'custom_emoji', offset, length, custom_emoji_id: top.argument });
      case 'code': {
        // <code class="language-x"> around an already closed <pre> gives that pre its language.
        const last = entities[entities.length - 1];
        if (top.argument !== '' && last?.type === 'pre' && last.offset === offset && last.length === length) {
          last.language = top.argument;
          return;
        }
        const code: MessageEntity = { type: 'code', offset, length };
        if (top.argument !== '') codeLanguages.set(code, top.argument);
        return void push(code);
      }
      case 'pre': {
        const last = entities[entities.length - 1];
        const language = last === undefined ? undefined : codeLanguages.get(last);
        if (last?.type === 'code' && last.offset === offset && last.length === length && language !== undefined) {
          entities.pop();
          return void push({ type: 'pre', offset, length, language });
        }
        return void push({ type: 'pre', offset, length });
      }
      case 'a': {
        const url = top.argument !== '' ? top.argument : text.slice(offset);
        const userId = userIdFromLink(url);
        if (userId !== undefined) {
          return void push({ type: 'text_mention', offset, length, user: { id: userId, is_bot: false, first_name: '' } });
        }
        const checked = checkUrl(url);
        if (checked.ok) push({ type: 'text_link', offset, length, url: checked.url });
        return;
      }
    }
  };

  while (i < n) {
    const char = source[i]!;
    if (char === '&') {
      const decoded = decodeHtmlEntity(source, i);
      if (decoded !== null) {
        if (decoded.codePoint >= 0xd800 && decoded.codePoint <= 0xdfff) hasLoneSurrogate = true;
        text += String.fromCodePoint(decoded.codePoint);
        i = decoded.next;
        continue;
      }
    }
    if (char !== '<') {
      text += char;
      i++;
      continue;
    }
    const begin = i;
    const at = () => byteOffset(source, begin);
    i++;
    if (source[i] !== '/') {
      while (i < n && !isSpace(source[i]) && source[i] !== '>') i++;
      if (i >= n) fail(`Unclosed start tag at byte offset ${at()}`);
      const tag = source.slice(begin + 1, i).toLowerCase();
      if (!HTML_TAGS.has(tag)) fail(`Unsupported start tag "${tag}" at byte offset ${at()}`);
      let argument = '';
      let expandable = false;
      while (source[i] !== '>') {
        while (i < n && isSpace(source[i])) i++;
        if (i >= n) fail(`Unclosed start tag "${tag}" at byte offset ${at()}`);
        if (source[i] === '>') break;
        const nameStart = i;
        while (i < n && !isSpace(source[i]) && source[i] !== '=' && source[i] !== '>') i++;
        const name = source.slice(nameStart, i).toLowerCase();
        if (name === '') fail(`Empty attribute name in the tag "${tag}" at byte offset ${at()}`);
        while (i < n && isSpace(source[i])) i++;
        if (i >= n) fail(`Unclosed start tag "${tag}" at byte offset ${at()}`);
        if (source[i] !== '=') {
          if (tag === 'blockquote' && name === 'expandable') expandable = true;
          continue;
        }
        i++;
        while (i < n && isSpace(source[i])) i++;
        if (i >= n) fail(`Unclosed start tag "${tag}" at byte offset ${at()}`);
        let value = '';
        const quote = source[i];
        if (quote !== '"' && quote !== "'") {
          const tokenStart = i;
          while (i < n && /[a-z0-9.-]/i.test(source[i]!)) i++;
          value = source.slice(tokenStart, i).toLowerCase();
          if (i >= n || (!isSpace(source[i]) && source[i] !== '>')) {
            fail(`Unexpected end of name token at byte offset ${byteOffset(source, tokenStart)}`);
          }
        } else {
          i++;
          while (i < n && source[i] !== quote) {
            const decoded = source[i] === '&' ? decodeHtmlEntity(source, i) : null;
            if (decoded !== null) {
              value += String.fromCodePoint(decoded.codePoint);
              i = decoded.next;
            } else {
              value += source[i];
              i++;
            }
          }
          if (i >= n) fail(`Unclosed start tag at byte offset ${at()}`);
          i++;
        }
        if (tag === 'a' && name === 'href') argument = value;
        else if (tag === 'code' && name === 'class' && value.startsWith('language-')) argument = value.slice(9);
        else if (tag === 'span' && name === 'class' && value.startsWith('tg-')) argument = value.slice(3);
        else if (tag === 'tg-emoji' && name === 'emoji-id') argument = value;
        else if (tag === 'blockquote' && name === 'expandable') expandable = true;
      }
      if (tag === 'span' && argument !== 'spoiler') {
        fail(`Tag "span" must have class "tg-spoiler" at byte offset ${at()}`);
      }
      i++;
      open.push({ tag, argument, expandable, offset: text.length });
    } else {
      if (open.length === 0) fail(`Unexpected end tag at byte offset ${at()}`);
      i++;
      const nameStart = i;
      while (i < n && !isSpace(source[i]) && source[i] !== '>') i++;
      const endName = source.slice(nameStart, i);
      while (i < n && isSpace(source[i])) i++;
      if (source[i] !== '>') fail(`Unclosed end tag at byte offset ${at()}`);
      i++;
      const top = open.pop()!;
      if (endName !== '' && endName !== top.tag) {
        fail(`Unmatched end tag at byte offset ${at()}, expected "</${top.tag}>", found "</${endName}>"`);
      }
      closeEntity(top);
    }
  }
  const unclosed = open[open.length - 1];
  if (unclosed !== undefined) fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  if (hasLoneSurrogate) {
    fail('Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units');
  }
  return { text, entities: sortEntities(entities) };
}

// ---------------------------------------------------------------------------------------------
// MarkdownV2

type MarkdownType =
  | 'Bold' | 'Italic' | 'Underline' | 'Strikethrough' | 'Spoiler'
  | 'Code' | 'Pre' | 'PreCode' | 'TextUrl' | 'CustomEmoji';

interface OpenMarkdown {
  type: MarkdownType;
  argument: string;
  offset: number;
  byteBegin: number;
}

const MARKDOWN_V2_RESERVED = '_*[]()~`>#+-=|{}.!';

const reserved = (char: string): never =>
  fail(`Character '${char}' is reserved and must be escaped with the preceding '\\'`);

const isEscapable = (char: string | undefined): boolean =>
  char !== undefined && char.charCodeAt(0) > 0 && char.charCodeAt(0) <= 126;

function parseEmojiUrl(url: string): string | undefined {
  const match = /^tg:\/\/emoji\/?\?([^#]*)/i.exec(url);
  if (match === null) return undefined;
  const id = new URLSearchParams(match[1]).get('id');
  return id !== null && /^[1-9]\d{0,18}$/.test(id) ? id : undefined;
}

export function parseMarkdownV2(source: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: OpenMarkdown[] = [];
  // Blockquotes are line-based ('>' at a line start) and live beside the entity stack:
  // an entity opened inside a quote must close before the quote ends.
  let quote: { offset: number; expandable: boolean; depth: number } | null = null;
  const n = source.length;

  const top = () => stack[stack.length - 1];
  const inCode = () => {
    const type = top()?.type;
    return type === 'Code' || type === 'Pre' || type === 'PreCode';
  };
  const unclosed = (open: OpenMarkdown): never =>
    fail(`Can't find end of ${open.type} entity at byte offset ${open.byteBegin}`);
  const closeQuote = () => {
    if (quote === null) return;
    if (stack.length > quote.depth) unclosed(top()!);
    if (text.length > quote.offset) {
      entities.push({
        type: quote.expandable ? 'expandable_blockquote' : 'blockquote',
        offset: quote.offset,
        length: text.length - quote.offset,
      });
    }
    quote = null;
  };
  // '||' right before the end of a quote's last line marks the quote expandable.
  const endsLastQuoteLine = (at: number) => {
    let p = at;
    if (source[p] === '\r') p++;
    if (p >= n) return true;
    return source[p] === '\n' && source[p + 1] !== '>';
  };
  const append = (char: string, at: number) => {
    text += char;
    if (char === '\n' && quote !== null && !inCode() && source[at + 1] !== '>') closeQuote();
  };

  for (let i = 0; i < n; i++) {
    const char = source[i]!;
    const atLineStart = i === 0 || source[i - 1] === '\n' || source[i - 1] === '\r';
    if (atLineStart && !inCode()) {
      if (char === '>') {
        quote ??= { offset: text.length, expandable: false, depth: stack.length };
        continue;
      }
      if (char === '*' && source[i + 1] === '*' && source[i + 2] === '>') {
        closeQuote();
        quote = { offset: text.length, expandable: false, depth: stack.length };
        i += 2;
        continue;
      }
    }
    if (char === '\\' && isEscapable(source[i + 1])) {
      i++;
      append(source[i]!, i);
      continue;
    }
    if (!(inCode() ? '`' : MARKDOWN_V2_RESERVED).includes(char)) {
      append(char, i);
      continue;
    }
    if (
      char === '|' && source[i + 1] === '|' && quote !== null &&
      top()?.type !== 'Spoiler' && endsLastQuoteLine(i + 2)
    ) {
      quote.expandable = true;
      i++;
      continue;
    }

    const current = top();
    let isEnd = false;
    switch (current?.type) {
      case 'Bold': isEnd = char === '*'; break;
      case 'Italic': isEnd = char === '_' && source[i + 1] !== '_'; break;
      case 'Code': isEnd = char === '`'; break;
      case 'Pre': case 'PreCode': isEnd = char === '`' && source[i + 1] === '`' && source[i + 2] === '`'; break;
      case 'TextUrl': case 'CustomEmoji': isEnd = char === ']'; break;
      case 'Underline': isEnd = char === '_' && source[i + 1] === '_'; break;
      case 'Strikethrough': isEnd = char === '~'; break;
      case 'Spoiler': isEnd = char === '|' && source[i + 1] === '|'; break;
      case undefined: break;
    }

    if (!isEnd || current === undefined) {
      const byteBegin = byteOffset(source, i);
      let type: MarkdownType;
      let argument = '';
      switch (char) {
        case '_':
          if (source[i + 1] === '_') {
            type = 'Underline';
            i++;
          } else {
            type = 'Italic';
          }
          break;
        case '*': type = 'Bold'; break;
        case '~': type = 'Strikethrough'; break;
        case '|':
          if (source[i + 1] !== '|') reserved(char);
          i++;
          type = 'Spoiler';
          break;
        case '[': type = 'TextUrl'; break;
        case '`':
          if (source[i + 1] === '`' && source[i + 2] === '`') {
            i += 3;
            type = 'Pre';
            let languageEnd = i;
            while (languageEnd < n && !isSpace(source[languageEnd]) && source[languageEnd] !== '`') languageEnd++;
            if (i !== languageEnd && languageEnd < n && source[languageEnd] !== '`') {
              type = 'PreCode';
              argument = source.slice(i, languageEnd);
              i = languageEnd;
            }
            // One line break right after the opening fence belongs to the syntax, not the text.
            if (source[i] === '\n' || source[i] === '\r') {
              const next = source[i + 1];
              i += (next === '\n' || next === '\r') && next !== source[i] ? 2 : 1;
            }
            i--;
          } else {
            type = 'Code';
          }
          break;
        case '!':
          if (source[i + 1] !== '[') reserved(char);
          i++;
          type = 'CustomEmoji';
          break;
        default:
          return reserved(char);
      }
      stack.push({ type, argument, offset: text.length, byteBegin });
      continue;
    }

    let skip = text.length === current.offset;
    let entity: MessageEntity | undefined;
    const offset = current.offset;
    const length = text.length - offset;
    switch (current.type) {
      case 'Bold': entity = { type: 'bold', offset, length }; break;
      case 'Italic': entity = { type: 'italic', offset, length }; break;
      case 'Strikethrough': entity = { type: 'strikethrough', offset, length }; break;
      case 'Code': entity = { type: 'code', offset, length }; break;
      case 'Underline': i++; entity = { type: 'underline', offset, length }; break;
      case 'Spoiler': i++; entity = { type: 'spoiler', offset, length }; break;
      case 'Pre': i += 2; entity = { type: 'pre', offset, length }; break;
      case 'PreCode': i += 2; entity = { type: 'pre', offset, length, language: current.argument }; break;
      case 'TextUrl':
      case 'CustomEmoji': {
        let url = '';
        if (source[i + 1] !== '(') {
          if (current.type === 'CustomEmoji') fail('The entity must contain a tg://emoji or tg://time URL');
          url = text.slice(offset);
        } else {
          i += 2;
          const urlStart = i;
          while (i < n && source[i] !== ')') {
            if (source[i] === '\\' && isEscapable(source[i + 1])) {
              url += source[i + 1];
              i += 2;
              continue;
            }
            url += source[i];
            i++;
          }
          if (i >= n) fail(`Can't find end of a URL at byte offset ${byteOffset(source, urlStart)}`);
        }
        if (current.type === 'CustomEmoji') {
          const id = parseEmojiUrl(url);
          if (id !== undefined) entity = { type: 'custom_emoji', offset, length, custom_emoji_id: id };
          else if (/^tg:\/\/time\/?\?/i.test(url)) skip = true; // date-time entities are not modelled
          else fail('Invalid tg://emoji or tg://time URL specified');
          break;
        }
        const userId = userIdFromLink(url);
        if (userId !== undefined) {
          entity = { type: 'text_mention', offset, length, user: { id: userId, is_bot: false, first_name: '' } };
        } else {
          const checked = checkUrl(url);
          if (checked.ok) entity = { type: 'text_link', offset, length, url: checked.url };
          else skip = true;
        }
        break;
      }
    }
    if (!skip && entity !== undefined) entities.push(entity);
    stack.pop();
  }
  const last = top();
  if (last !== undefined) unclosed(last);
  closeQuote();
  return { text, entities: sortEntities(entities) };
}

// ---------------------------------------------------------------------------------------------
// Legacy Markdown

export function parseMarkdown(source: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const char = source[i]!;
    if (char === '\\' && '_*`['.includes(source[i + 1] ?? ' ')) {
      i++;
      text += source[i];
      continue;
    }
    if (!'_*`['.includes(char)) {
      text += char;
      continue;
    }
    const begin = i;
    const endChar = char === '[' ? ']' : char;
    let isPre = false;
    let language = '';
    i++;
    if (char === '`' && source[i] === '`' && source[i + 1] === '`') {
      i += 2;
      isPre = true;
      let languageEnd = i;
      while (languageEnd < n && !isSpace(source[languageEnd]) && source[languageEnd] !== '`') languageEnd++;
      if (i !== languageEnd && languageEnd < n && source[languageEnd] !== '`') {
        language = source.slice(i, languageEnd);
        i = languageEnd;
      }
      if (source[i] === '\n' || source[i] === '\r') {
        const next = source[i + 1];
        i += (next === '\n' || next === '\r') && next !== source[i] ? 2 : 1;
      }
    }
    const offset = text.length;
    while (i < n && (source[i] !== endChar || (isPre && !(source[i + 1] === '`' && source[i + 2] === '`')))) {
      text += source[i];
      i++;
    }
    if (i >= n) fail(`Can't find end of the entity starting at byte offset ${byteOffset(source, begin)}`);
    const length = text.length - offset;
    if (length > 0) {
      if (char === '_') entities.push({ type: 'italic', offset, length });
      else if (char === '*') entities.push({ type: 'bold', offset, length });
      else if (char === '`') {
        entities.push(isPre ? { type: 'pre', offset, length, ...(language ? { language } : {}) } : { type: 'code', offset, length });
      } else {
        let url = '';
        if (source[i + 1] !== '(') {
          url = text.slice(offset);
        } else {
          i += 2;
          while (i < n && source[i] !== ')') url += source[i++];
        }
        const userId = userIdFromLink(url);
        const checked = checkUrl(url);
        if (userId !== undefined) {
          entities.push({ type: 'text_mention', offset, length, user: { id: userId, is_bot: false, first_name: '' } });
        } else if (checked.ok) {
          entities.push({ type: 'text_link', offset, length, url: checked.url });
        }
      }
    }
    if (isPre) i += 2;
  }
  return { text, entities: sortEntities(entities) };
}

// ---------------------------------------------------------------------------------------------
// Explicit entities

const ENTITY_TYPES = new Set([
  'mention', 'hashtag', 'cashtag', 'bot_command', 'url', 'email', 'phone_number', 'bold', 'italic',
  'underline', 'strikethrough', 'spoiler', 'blockquote', 'expandable_blockquote', 'code', 'pre',
  'text_link', 'text_mention', 'custom_emoji',
]);

const entityError = (text: string): BotApiError => badRequest(`can't parse MessageEntity: ${text}`);

export function parseEntitiesParam(raw: string, isKnownUser: (id: number) => boolean): MessageEntity[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badRequest("can't parse entities JSON object");
  }
  if (!Array.isArray(value)) throw badRequest('field "entities" must be of type Array');
  return value.map((item): MessageEntity => {
    if (typeof item !== 'object' || item === null) throw entityError('MessageEntity must be an Object');
    const entity = item as Record<string, unknown>;
    if (typeof entity.type !== 'string') throw entityError('Can\'t find field "type"');
    if (!ENTITY_TYPES.has(entity.type)) throw entityError('Unsupported type specified');
    const offset = Number(entity.offset);
    const length = Number(entity.length);
    if (!Number.isInteger(offset) || offset < 0) throw badRequest(`receive an entity with incorrect offset ${entity.offset}`);
    if (!Number.isInteger(length) || length < 0) throw badRequest(`receive an entity with incorrect length ${entity.length}`);
    const result: MessageEntity = { type: entity.type, offset, length };
    if (entity.type === 'text_link') {
      if (typeof entity.url !== 'string') throw entityError('Can\'t find field "url"');
      const userId = userIdFromLink(entity.url);
      if (userId !== undefined) {
        if (!isKnownUser(userId)) throw badRequest('user not found');
        return { type: 'text_mention', offset, length, user: { id: userId, is_bot: false, first_name: '' } };
      }
      const checked = checkUrl(entity.url);
      if (!checked.ok) throw badRequest(`entity URL '${entity.url}' is invalid: ${checked.reason}`);
      result.url = checked.url;
    } else if (entity.type === 'text_mention') {
      const user = entity.user as { id?: unknown } | undefined;
      if (typeof user !== 'object' || user === null) throw entityError('Can\'t find field "user"');
      if (typeof user.id !== 'number' || !isKnownUser(user.id)) throw badRequest('user not found');
      result.user = user as MessageEntity['user'];
    } else if (entity.type === 'custom_emoji') {
      if (entity.custom_emoji_id === undefined) throw entityError('Can\'t find field "custom_emoji_id"');
      const id = String(entity.custom_emoji_id);
      if (!/^\d{1,19}$/.test(id) || BigInt(id) > 9223372036854775807n) {
        throw entityError('Field "custom_emoji_id" must be a valid Number');
      }
      result.custom_emoji_id = id;
    } else if (entity.type === 'pre' && typeof entity.language === 'string' && entity.language !== '') {
      result.language = entity.language;
    }
    return result;
  });
}

// ---------------------------------------------------------------------------------------------
// Cleaning, trimming and limits (tdlib's fix_formatted_text, simplified)

function checkBounds(text: string, entities: MessageEntity[]): void {
  for (const entity of entities) {
    if (entity.offset > text.length) {
      throw badRequest(`entity begins after the end of the text at UTF-16 offset ${entity.offset}`);
    }
    if (entity.offset + entity.length > text.length) {
      throw badRequest(
        `entity beginning at UTF-16 offset ${entity.offset} ends after the end of the text at UTF-16 offset ${entity.offset + entity.length}`,
      );
    }
  }
}

/**
 * Removes '\r', turns other control characters into spaces, then trims whitespace: trailing
 * whitespace always (cutting entities), leading whitespace only up to the first entity.
 */
function cleanAndTrim(formatted: FormattedText): FormattedText {
  const removed: number[] = [];
  let text = '';
  for (let i = 0; i < formatted.text.length; i++) {
    const char = formatted.text[i]!;
    if (char === '\r') {
      removed.push(i);
      continue;
    }
    text += char.charCodeAt(0) < 32 && char !== '\n' ? ' ' : char;
  }
  const shift = (position: number) => position - removed.filter((at) => at < position).length;
  let entities = formatted.entities.map((entity) => {
    const offset = shift(entity.offset);
    return { ...entity, offset, length: shift(entity.offset + entity.length) - offset };
  });
  let end = text.length;
  while (end > 0 && isSpace(text[end - 1])) end--;
  const firstEntity = Math.min(text.length, ...entities.filter((e) => e.length > 0).map((e) => e.offset));
  let start = 0;
  while (start < end && start < firstEntity && isSpace(text[start])) start++;
  text = text.slice(start, end);
  entities = entities
    .map((entity) => {
      const from = Math.max(entity.offset - start, 0);
      const to = Math.min(entity.offset + entity.length - start, text.length);
      return { ...entity, offset: from, length: to - from };
    })
    .filter((entity) => entity.length > 0);
  return { text, entities: sortEntities(entities) };
}

export interface FormatRequest {
  raw: string | undefined;
  parseMode: string | undefined;
  entities: string | undefined;
  kind: 'text' | 'caption';
  isKnownUser: (id: number) => boolean;
}

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;

/**
 * Applies parse_mode or explicit entities, cleans and checks the result. Limits count Unicode
 * code points, as tdlib's utf8_length does. An empty caption means "no caption".
 */
export function formatText(request: FormatRequest): FormattedText | undefined {
  const { raw, kind } = request;
  if (raw === undefined || raw === '') {
    if (kind === 'text') throw badRequest(TEXT.messageTextEmpty);
    return undefined;
  }
  let parsed: FormattedText;
  if (request.entities !== undefined && request.entities !== '') {
    parsed = { text: raw, entities: parseEntitiesParam(request.entities, request.isKnownUser) };
    checkBounds(raw, parsed.entities);
  } else {
    parsed = parseWithMode(raw, request.parseMode);
  }
  const cleaned = cleanAndTrim(parsed);
  if (cleaned.text === '') {
    if (kind === 'text') throw badRequest(TEXT.textMustBeNonEmpty);
    return undefined;
  }
  const limit = kind === 'text' ? TEXT_LIMIT : CAPTION_LIMIT;
  if (codePointLength(cleaned.text) > limit) {
    throw badRequest(kind === 'text' ? TEXT.messageTooLong : TEXT.captionTooLong);
  }
  return cleaned;
}

export function parseWithMode(text: string, parseMode: string | undefined): FormattedText {
  if (parseMode === undefined || parseMode === '') return { text, entities: [] };
  const parser = { html: parseHtml, markdownv2: parseMarkdownV2, markdown: parseMarkdown }[parseMode.toLowerCase()];
  if (parser === undefined) throw badRequest(TEXT.unsupportedParseMode);
  try {
    return parser(text);
  } catch (error) {
    if (error instanceof MarkupError) throw badRequest(`${TEXT.cantParseEntities}${error.message}`);
    throw error;
  }
}

/** Entities Telegram adds to incoming user text that tests type: commands at the start. */
export function commandEntities(text: string): MessageEntity[] {
  const match = /^\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?/.exec(text);
  return match === null ? [] : [{ type: 'bot_command', offset: 0, length: match[0].length }];
}
