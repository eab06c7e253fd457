// Validation of what a bot sends: message payloads (content, embeds, button rows) and
// application commands. Limits are Discord's documented ones; violations answer 50035
// Invalid Form Body with Discord's error tree, so discord.js renders them as Discord would.

import { DiscordApiError, ERR, FIELD, FormErrors } from './errors.js';
import type { ActionRow, ButtonComponent, CommandOption, Embed } from './types.js';

type Path = ReadonlyArray<string | number>;

export const MESSAGE_FLAGS = {
  SUPPRESS_EMBEDS: 1 << 2,
  HAS_THREAD: 1 << 5,
  EPHEMERAL: 1 << 6,
  LOADING: 1 << 7,
  SUPPRESS_NOTIFICATIONS: 1 << 12,
  IS_COMPONENTS_V2: 1 << 15,
} as const;

const LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFooter: 2048,
  embedAuthor: 256,
  embedTotal: 6000,
  rows: 5,
  rowWidth: 5,
  buttonLabel: 80,
  customId: 100,
  url: 512,
  attachments: 10,
} as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Discord counts characters, not UTF-16 units or bytes. */
export const charLength = (text: string): number => [...text].length;

export interface MessageInput {
  content?: string;
  embeds?: Embed[];
  components?: ActionRow[];
  flags?: number;
  /** `attachments` of the payload: uploads by `id` (the n of `files[n]`) or existing ones to keep. */
  attachments?: Array<{ id: string; filename?: string; description?: string }>;
  /** A reply's `message_reference` (forwards are not modelled). */
  messageReference?: { messageId: string; channelId?: string; failIfNotExists: boolean };
}

function checkString(
  errors: FormErrors,
  path: Path,
  value: unknown,
  { max, min = 0, required = false }: { max: number; min?: number; required?: boolean },
): string | undefined {
  if (value === undefined || value === null) {
    if (required) errors.add(path, FIELD.required());
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.add(path, FIELD.string());
    return undefined;
  }
  const length = charLength(value);
  if (min > 0 && length < min) errors.add(path, FIELD.badLength(min, max));
  else if (length > max) errors.add(path, min > 0 ? FIELD.badLength(min, max) : FIELD.maxLength(max));
  return value;
}

function validateEmbeds(value: unknown, path: Path, errors: FormErrors): Embed[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    errors.add(path, { code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' });
    return undefined;
  }
  if (value.length > LIMITS.embeds) errors.add(path, FIELD.maxLength(LIMITS.embeds));
  let total = 0;
  const embeds: Embed[] = [];
  value.forEach((raw: unknown, index) => {
    const at = [...path, index];
    if (!isRecord(raw)) {
      errors.add(at, { code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' });
      return;
    }
    const title = checkString(errors, [...at, 'title'], raw.title, { max: LIMITS.embedTitle });
    const description = checkString(errors, [...at, 'description'], raw.description, { max: LIMITS.embedDescription });
    total += charLength(title ?? '') + charLength(description ?? '');
    if (raw.fields !== undefined) {
      const fields = Array.isArray(raw.fields) ? (raw.fields as unknown[]) : [];
      if (fields.length > LIMITS.embedFields) errors.add([...at, 'fields'], FIELD.maxLength(LIMITS.embedFields));
      fields.forEach((field, fieldIndex) => {
        const record = isRecord(field) ? field : {};
        const name = checkString(errors, [...at, 'fields', fieldIndex, 'name'], record.name, { max: LIMITS.embedFieldName, required: true });
        const fieldValue = checkString(errors, [...at, 'fields', fieldIndex, 'value'], record.value, {
          max: LIMITS.embedFieldValue,
          required: true,
        });
        total += charLength(name ?? '') + charLength(fieldValue ?? '');
      });
    }
    if (isRecord(raw.footer)) {
      total += charLength(checkString(errors, [...at, 'footer', 'text'], raw.footer.text, { max: LIMITS.embedFooter, required: true }) ?? '');
    }
    if (isRecord(raw.author)) {
      total += charLength(checkString(errors, [...at, 'author', 'name'], raw.author.name, { max: LIMITS.embedAuthor, required: true }) ?? '');
    }
    embeds.push({ type: 'rich', ...raw } as Embed);
  });
  if (total > LIMITS.embedTotal) {
    errors.add(path, { code: 'MAX_EMBED_SIZE_EXCEEDED', message: `Embed size exceeds maximum size of ${LIMITS.embedTotal}` });
  }
  return embeds;
}

function isWellFormedUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return ['http:', 'https:', 'discord:'].includes(url.protocol);
  } catch {
    return false;
  }
}

function validateButton(raw: Record<string, unknown>, at: Path, errors: FormErrors, customIds: Set<string>): ButtonComponent {
  const style = raw.style;
  if (style === undefined || style === null) errors.add([...at, 'style'], FIELD.required());
  else if (typeof style !== 'number' || !Number.isInteger(style) || style < 1 || style > 6) errors.add([...at, 'style'], FIELD.enumValue(style));
  else if (style === 6) throw ERR.notModelled('premium buttons (style 6)');

  const label = checkString(errors, [...at, 'label'], raw.label, { max: LIMITS.buttonLabel });
  if (label === undefined && raw.emoji === undefined && style !== 6) {
    errors.add([...at, 'label'], { code: 'BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED', message: 'A label or emoji is required' });
  }

  const isLink = style === 5;
  if (isLink) {
    const url = checkString(errors, [...at, 'url'], raw.url, { max: LIMITS.url, required: true });
    if (url !== undefined && !isWellFormedUrl(url)) errors.add([...at, 'url'], FIELD.invalidUrl());
    if (raw.custom_id !== undefined && raw.custom_id !== null) {
      errors.add([...at, 'custom_id'], {
        code: 'BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE',
        message: 'A custom id and url cannot both be specified',
      });
    }
  } else {
    if (raw.url !== undefined && raw.url !== null) {
      errors.add([...at, 'url'], {
        code: 'BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE',
        message: 'A custom id and url cannot both be specified',
      });
    }
    const customId = raw.custom_id;
    if (customId === undefined || customId === null) errors.add([...at, 'custom_id'], FIELD.customIdRequired());
    else if (typeof customId !== 'string') errors.add([...at, 'custom_id'], FIELD.string());
    else if (customId.length === 0) errors.add([...at, 'custom_id'], FIELD.badLength(1, LIMITS.customId));
    else if (charLength(customId) > LIMITS.customId) errors.add([...at, 'custom_id'], FIELD.maxLength(LIMITS.customId));
    else if (customIds.has(customId)) errors.add([...at, 'custom_id'], FIELD.customIdDuplicated());
    else customIds.add(customId);
  }
  if (raw.disabled !== undefined && typeof raw.disabled !== 'boolean') {
    errors.add([...at, 'disabled'], { code: 'BASE_TYPE_BOOLEAN', message: 'Must be either true or false.' });
  }

  const button: ButtonComponent = { type: 2, style: style as ButtonComponent['style'] };
  if (typeof raw.id === 'number') button.id = raw.id;
  if (label !== undefined) button.label = label;
  if (typeof raw.custom_id === 'string' && !isLink) button.custom_id = raw.custom_id;
  if (typeof raw.url === 'string' && isLink) button.url = raw.url;
  if (raw.disabled === true) button.disabled = true;
  if (isRecord(raw.emoji)) button.emoji = raw.emoji as ButtonComponent['emoji'];
  return button;
}

/** Validates classic (non components-v2) message components: action rows of buttons. */
export function validateComponents(value: unknown, path: Path, errors: FormErrors): ActionRow[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    errors.add(path, { code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' });
    return undefined;
  }
  if (value.length > LIMITS.rows) errors.add(path, FIELD.maxLength(LIMITS.rows));
  const customIds = new Set<string>();
  const rows: ActionRow[] = [];
  value.forEach((rawRow: unknown, rowIndex) => {
    const at = [...path, rowIndex];
    if (!isRecord(rawRow)) {
      errors.add(at, { code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' });
      return;
    }
    if (rawRow.type === undefined) {
      errors.add([...at, 'type'], FIELD.required());
      return;
    }
    if (rawRow.type !== 1) {
      errors.add([...at, 'type'], FIELD.unionType([1]));
      return;
    }
    const children = rawRow.components;
    if (children === undefined || children === null) {
      errors.add([...at, 'components'], FIELD.required());
      return;
    }
    if (!Array.isArray(children)) {
      errors.add([...at, 'components'], { code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' });
      return;
    }
    if (children.length < 1 || children.length > LIMITS.rowWidth) errors.add([...at, 'components'], FIELD.badLength(1, LIMITS.rowWidth));
    const buttons: ButtonComponent[] = [];
    children.forEach((rawChild: unknown, childIndex) => {
      const childAt = [...at, 'components', childIndex];
      if (!isRecord(rawChild)) {
        errors.add(childAt, { code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' });
        return;
      }
      if (rawChild.type === undefined) {
        errors.add([...childAt, 'type'], FIELD.required());
        return;
      }
      if ([3, 5, 6, 7, 8].includes(rawChild.type as number)) throw ERR.notModelled('select menus');
      if (rawChild.type === 4) throw ERR.notModelled('text inputs (modals)');
      if (rawChild.type !== 2) {
        errors.add([...childAt, 'type'], FIELD.unionType([2, 3, 4, 5, 6, 7, 8]));
        return;
      }
      buttons.push(validateButton(rawChild, childAt, errors, customIds));
    });
    rows.push({ type: 1, ...(typeof rawRow.id === 'number' ? { id: rawRow.id } : {}), components: buttons });
  });
  return rows;
}

/** Gives every component without an `id` the next free number, as Discord does. */
export function numberComponents(rows: ActionRow[]): ActionRow[] {
  const taken = new Set<number>();
  for (const row of rows) {
    if (row.id !== undefined) taken.add(row.id);
    for (const button of row.components) if (button.id !== undefined) taken.add(button.id);
  }
  let next = 1;
  const take = (): number => {
    while (taken.has(next)) next++;
    taken.add(next);
    return next;
  };
  return rows.map((row) => {
    const id = row.id ?? take();
    return { type: 1, id, components: row.components.map((button) => ({ ...button, id: button.id ?? take() })) };
  });
}

/**
 * Validates a message create/edit payload. `path` prefixes error paths (`['data']` inside
 * an interaction callback). Emptiness is checked by the caller, which knows the final state.
 */
export function validateMessage(body: unknown, path: Path = []): MessageInput {
  const errors = new FormErrors();
  if (body === undefined || body === null) return {};
  if (!isRecord(body)) {
    errors.add(path, { code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' });
    errors.throwIfAny();
    return {};
  }
  const input: MessageInput = {};
  if ('content' in body) {
    const content = checkString(errors, [...path, 'content'], body.content, { max: LIMITS.content });
    input.content = content ?? '';
  }
  if (body.flags !== undefined && body.flags !== null) {
    if (typeof body.flags !== 'number' || !Number.isInteger(body.flags)) {
      errors.add([...path, 'flags'], { code: 'NUMBER_TYPE_COERCE', message: `Value "${String(body.flags)}" is not int.` });
    } else {
      if ((body.flags & MESSAGE_FLAGS.IS_COMPONENTS_V2) !== 0) throw ERR.notModelled('components v2 (flag IS_COMPONENTS_V2)');
      input.flags = body.flags;
    }
  }
  if ('embeds' in body) input.embeds = validateEmbeds(body.embeds, [...path, 'embeds'], errors) ?? [];
  if ('components' in body) input.components = validateComponents(body.components, [...path, 'components'], errors) ?? [];
  if ('attachments' in body && body.attachments !== null) {
    if (!Array.isArray(body.attachments)) {
      errors.add([...path, 'attachments'], { code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' });
    } else {
      if (body.attachments.length > LIMITS.attachments) errors.add([...path, 'attachments'], FIELD.maxLength(LIMITS.attachments));
      input.attachments = [];
      body.attachments.forEach((raw: unknown, index) => {
        if (!isRecord(raw) || raw.id === undefined || raw.id === null) {
          errors.add([...path, 'attachments', index, 'id'], FIELD.required());
          return;
        }
        input.attachments!.push({
          id: String(raw.id),
          ...(typeof raw.filename === 'string' ? { filename: raw.filename } : {}),
          ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
        });
      });
    }
  }
  const reference = body.message_reference;
  if (reference !== undefined && reference !== null) {
    if (!isRecord(reference)) {
      errors.add([...path, 'message_reference'], { code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' });
    } else if (reference.type === 1) {
      throw ERR.notModelled('message forwarding (message_reference type 1)');
    } else if (reference.message_id === undefined || reference.message_id === null) {
      errors.add([...path, 'message_reference', 'message_id'], FIELD.required());
    } else {
      input.messageReference = {
        messageId: String(reference.message_id),
        ...(typeof reference.channel_id === 'string' ? { channelId: reference.channel_id } : {}),
        failIfNotExists: reference.fail_if_not_exists !== false,
      };
    }
  }
  if (body.poll !== undefined && body.poll !== null) throw ERR.notModelled('polls');
  if (Array.isArray(body.sticker_ids) && body.sticker_ids.length > 0) throw ERR.notModelled('stickers');
  errors.throwIfAny();
  return input;
}

// ---------------------------------------------------------------------------------------------
// Application commands

const NAME_PATTERN = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const OPTION_TYPES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

export interface CommandInput {
  type: number;
  name: string;
  description: string;
  options?: CommandOption[];
  default_member_permissions: string | null;
  dm_permission: boolean;
  contexts: number[] | null;
  integration_types: number[];
  nsfw: boolean;
  name_localizations: Record<string, string> | null;
  description_localizations: Record<string, string> | null;
}

function checkName(errors: FormErrors, path: Path, value: unknown, chatInput: boolean): string {
  const name = checkString(errors, path, value, { min: 1, max: 32, required: true });
  if (name === undefined || charLength(name) < 1 || charLength(name) > 32) return name ?? '';
  if (chatInput && (!NAME_PATTERN.test(name) || name !== name.toLowerCase())) errors.add(path, FIELD.commandName());
  return name;
}

function validateOptions(value: unknown, path: Path, errors: FormErrors, depth: number): CommandOption[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    errors.add(path, { code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' });
    return undefined;
  }
  if (value.length > 25) errors.add(path, FIELD.maxLength(25));
  let sawOptional = false;
  const names = new Set<string>();
  return value.map((raw: unknown, index) => {
    const at = [...path, index];
    const option = isRecord(raw) ? raw : {};
    if (!OPTION_TYPES.has(option.type as number)) {
      errors.add([...at, 'type'], option.type === undefined ? FIELD.required() : FIELD.enumValue(option.type));
    }
    const name = checkName(errors, [...at, 'name'], option.name, true);
    if (names.has(name)) {
      errors.add([...at, 'name'], { code: 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', message: 'Option names must be unique' });
    }
    names.add(name);
    checkString(errors, [...at, 'description'], option.description, { min: 1, max: 100, required: true });
    if (option.required === true && sawOptional) {
      errors.add([...at, 'required'], {
        code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
        message: 'Required options must be placed before non-required options',
      });
    }
    if (option.required !== true) sawOptional = true;
    if (Array.isArray(option.choices) && option.choices.length > 25) errors.add([...at, 'choices'], FIELD.maxLength(25));
    const nested = (option.type === 1 || option.type === 2) && depth < 2 ? validateOptions(option.options, [...at, 'options'], errors, depth + 1) : undefined;
    return { ...(option as CommandOption), ...(nested === undefined ? {} : { options: nested }) };
  });
}

export function validateCommand(raw: unknown, path: Path, errors: FormErrors): CommandInput {
  const body = isRecord(raw) ? raw : {};
  if (!isRecord(raw)) errors.add(path, { code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' });
  const type = body.type === undefined || body.type === null ? 1 : body.type;
  if (type === 4) throw ERR.notModelled('primary entry point commands');
  if (type !== 1 && type !== 2 && type !== 3) errors.add([...path, 'type'], FIELD.enumValue(type));
  const chatInput = type === 1;
  const name = checkName(errors, [...path, 'name'], body.name, chatInput);
  let description = '';
  if (chatInput) description = checkString(errors, [...path, 'description'], body.description, { min: 1, max: 100, required: true }) ?? '';
  const options = chatInput ? validateOptions(body.options, [...path, 'options'], errors, 0) : undefined;
  const contexts = Array.isArray(body.contexts) ? (body.contexts as unknown[]) : null;
  contexts?.forEach((context, index) => {
    if (context !== 0 && context !== 1 && context !== 2) errors.add([...path, 'contexts', index], FIELD.enumValue(context));
  });
  const integrationTypes = Array.isArray(body.integration_types) ? (body.integration_types as unknown[]) : [0];
  integrationTypes.forEach((kind, index) => {
    if (kind !== 0 && kind !== 1) errors.add([...path, 'integration_types', index], FIELD.enumValue(kind));
  });
  return {
    type: type as number,
    name,
    description,
    ...(options === undefined ? {} : { options }),
    default_member_permissions:
      body.default_member_permissions === undefined || body.default_member_permissions === null ? null : String(body.default_member_permissions),
    dm_permission: body.dm_permission !== false,
    contexts: contexts as number[] | null,
    integration_types: integrationTypes as number[],
    nsfw: body.nsfw === true,
    name_localizations: isRecord(body.name_localizations) ? (body.name_localizations as Record<string, string>) : null,
    description_localizations: isRecord(body.description_localizations)
      ? (body.description_localizations as Record<string, string>)
      : null,
  };
}

export function validateCommandList(body: unknown): CommandInput[] {
  const errors = new FormErrors();
  if (!Array.isArray(body)) {
    errors.add([], { code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' });
    errors.throwIfAny();
    return [];
  }
  const commands = body.map((raw: unknown, index) => validateCommand(raw, [index], errors));
  errors.throwIfAny();
  const seen = new Set<string>();
  for (const command of commands) {
    const key = `${command.type}:${command.name}`;
    if (seen.has(key)) throw new DiscordApiError(400, 50035, 'Invalid Form Body', { _errors: [FIELD.duplicateCommandName()] });
    seen.add(key);
  }
  return commands;
}

/** One command (POST, PATCH): error paths start at the command's own fields. */
export function validateSingleCommand(body: unknown): CommandInput {
  const errors = new FormErrors();
  const command = validateCommand(body, [], errors);
  errors.throwIfAny();
  return command;
}

// ---------------------------------------------------------------------------------------------
// Images: Discord reports width and height for image attachments.

export function imageSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString('ascii', 12, 16) === 'IHDR') {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && bytes.toString('ascii', 0, 3) === 'GIF') {
    return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let offset = 2;
    while (offset + 9 < bytes.length) {
      if (bytes[offset] !== 0xff) return undefined;
      const marker = bytes[offset + 1]!;
      const length = bytes.readUInt16BE(offset + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
      }
      offset += 2 + length;
    }
  }
  return undefined;
}
