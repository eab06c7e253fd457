// reply_markup validation. Inline keyboards are checked button by button like the Bot API
// does (tdlib/telegram-bot-api get_inline_keyboard_button), with the same error texts, and
// normalised to the fields Telegram echoes back so edits can be compared like Telegram does.

import { badRequest, type BotApiError, TEXT } from './errors.js';
import { checkUrl } from './formatting.js';
import type { InlineKeyboardButton, InlineKeyboardMarkup } from './types.js';

export const CALLBACK_DATA_MAX_BYTES = 64;
// Telegram rejects oversized keyboards by their serialized size (REPLY_MARKUP_TOO_LONG);
// 100 buttons is the commonly hit practical ceiling.
const MAX_BUTTONS = 100;

const ACTION_FIELDS = [
  'url', 'callback_data', 'web_app', 'login_url', 'switch_inline_query',
  'switch_inline_query_current_chat', 'switch_inline_query_chosen_chat', 'copy_text',
  'callback_game', 'pay',
] as const;

const buttonError = (text: string): BotApiError => badRequest(`can't parse inline keyboard button: ${text}`);

function parseInlineButton(value: unknown): InlineKeyboardButton {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw buttonError('InlineKeyboardButton must be an Object');
  }
  const button = value as Record<string, unknown>;
  if (!('text' in button)) throw buttonError('Can\'t find field "text"');
  if (typeof button.text !== 'string') throw buttonError('Field "text" must be of type String');
  if (button.text === '') throw badRequest('BUTTON_TEXT_INVALID');
  const text = button.text;

  // The Bot API treats an empty url/callback_data as absent.
  const present = ACTION_FIELDS.filter(
    (field) => button[field] !== undefined && button[field] !== null && button[field] !== '',
  );
  if (present.length === 0) throw buttonError('Text buttons are unallowed in the inline keyboard');
  // The documentation demands exactly one action; the live server silently keeps the first
  // (url before callback_data). Rejecting here catches a button whose callback would be lost.
  if (present.length > 1) {
    throw buttonError(`exactly one of the optional fields must be used, got ${present.join(', ')}`);
  }
  const field = present[0]!;
  const action = button[field];

  switch (field) {
    case 'callback_data': {
      if (typeof action !== 'string') throw buttonError('Field "callback_data" must be of type String');
      if (Buffer.byteLength(action, 'utf8') > CALLBACK_DATA_MAX_BYTES) throw badRequest(TEXT.buttonDataInvalid);
      return { text, callback_data: action };
    }
    case 'url': {
      if (typeof action !== 'string') throw buttonError('Field "url" must be of type String');
      const checked = checkUrl(action);
      if (!checked.ok) throw badRequest(`inline keyboard button URL '${action}' is invalid: ${checked.reason}`);
      return { text, url: checked.url };
    }
    case 'web_app': {
      const url = (action as { url?: unknown }).url;
      if (typeof url !== 'string' || !url.startsWith('https://') || !checkUrl(url).ok) {
        throw badRequest(`inline keyboard button Web App URL '${String(url)}' is invalid: Only HTTPS links are allowed`);
      }
      return { text, web_app: { url } };
    }
    case 'switch_inline_query':
    case 'switch_inline_query_current_chat':
      if (typeof action !== 'string') throw buttonError(`Field "${field}" must be of type String`);
      return { text, [field]: action };
    case 'copy_text': {
      const copied = (action as { text?: unknown }).text;
      if (typeof copied !== 'string' || copied === '' || [...copied].length > 256) {
        throw badRequest('BUTTON_COPY_TEXT_INVALID');
      }
      return { text, copy_text: { text: copied } };
    }
    case 'callback_game':
    case 'pay':
      // Only valid in game / invoice messages, which the fake does not send.
      throw badRequest('BUTTON_TYPE_INVALID');
    default:
      return { text, [field]: action };
  }
}

function parseInlineKeyboard(rows: unknown): InlineKeyboardMarkup {
  if (!Array.isArray(rows)) throw badRequest('field "inline_keyboard" must be of type Array');
  let count = 0;
  const inline_keyboard = rows.map((row) => {
    if (!Array.isArray(row)) throw badRequest('field "inline_keyboard" must be an Array of Arrays');
    count += row.length;
    return row.map(parseInlineButton);
  });
  if (count > MAX_BUTTONS) throw badRequest('reply markup is too long');
  return { inline_keyboard: inline_keyboard.filter((row) => row.length > 0) };
}

function checkBooleanField(markup: Record<string, unknown>, field: string): void {
  const value = markup[field];
  if (value !== undefined && typeof value !== 'boolean') throw badRequest(`field "${field}" must be of type Boolean`);
}

export type ParsedReplyMarkup =
  | { kind: 'none' }
  | { kind: 'inline'; markup: InlineKeyboardMarkup }
  | { kind: 'other' };

/**
 * Parses the reply_markup parameter (a JSON string, as the Bot API receives it). Reply
 * keyboards, keyboard removal and force-reply are validated but not shown in message objects,
 * exactly as Telegram omits them from the Message it returns.
 */
export function parseReplyMarkup(raw: string | undefined): ParsedReplyMarkup {
  if (raw === undefined || raw === '') return { kind: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badRequest("can't parse reply keyboard markup JSON object");
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('object expected as reply markup');
  }
  const markup = value as Record<string, unknown>;
  if ('inline_keyboard' in markup) {
    const inline = parseInlineKeyboard(markup.inline_keyboard);
    return inline.inline_keyboard.length === 0 ? { kind: 'none' } : { kind: 'inline', markup: inline };
  }
  if ('keyboard' in markup) {
    if (!Array.isArray(markup.keyboard)) throw badRequest('field "keyboard" must be of type Array');
    for (const row of markup.keyboard) {
      if (!Array.isArray(row)) throw badRequest('field "keyboard" must be an Array of Arrays');
      for (const button of row) {
        const text = typeof button === 'string' ? button : (button as { text?: unknown } | null)?.text;
        if (typeof text !== 'string') throw badRequest('can\'t parse keyboard button: Can\'t find field "text"');
      }
    }
    for (const field of ['resize_keyboard', 'one_time_keyboard', 'selective', 'is_persistent']) {
      checkBooleanField(markup, field);
    }
    return { kind: 'other' };
  }
  if ('remove_keyboard' in markup || 'force_reply' in markup) {
    checkBooleanField(markup, 'remove_keyboard');
    checkBooleanField(markup, 'force_reply');
    checkBooleanField(markup, 'selective');
    return { kind: 'other' };
  }
  return { kind: 'none' };
}

/** Parses reply_markup for edit methods, which accept inline keyboards only. */
export function parseInlineMarkupForEdit(raw: string | undefined): InlineKeyboardMarkup | undefined {
  const parsed = parseReplyMarkup(raw);
  if (parsed.kind === 'other') throw badRequest('inline keyboard expected');
  return parsed.kind === 'inline' ? parsed.markup : undefined;
}

export const flattenButtons = (markup: InlineKeyboardMarkup | undefined): InlineKeyboardButton[] =>
  markup?.inline_keyboard.flat() ?? [];
