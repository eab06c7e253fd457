// Discord's JSON error answers. Codes and messages are the live API's (the developer docs'
// JSON error code table and errors quoted in public bug reports), because product code and
// discord.js match on them; wording not confirmed that way is listed in README.md.

export interface FieldError {
  code: string;
  message: string;
}

/** Discord's nested `errors` object: keys are field names or array indexes, leaves `_errors`. */
export interface ErrorTree {
  _errors?: FieldError[];
  [field: string]: ErrorTree | FieldError[] | undefined;
}

export class DiscordApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly apiMessage: string,
    readonly errors?: ErrorTree,
  ) {
    super(`${status} ${code}: ${apiMessage}`);
    this.name = 'DiscordApiError';
  }

  get body(): { message: string; code: number; errors?: ErrorTree } {
    return { message: this.apiMessage, code: this.code, ...(this.errors === undefined ? {} : { errors: this.errors }) };
  }
}

/** Collects field errors under their paths, in the shape of Discord's 50035 answers. */
export class FormErrors {
  private readonly tree: ErrorTree = {};
  private count = 0;

  add(path: ReadonlyArray<string | number>, error: FieldError): void {
    let node = this.tree;
    for (const key of path) {
      const name = String(key);
      const next = node[name];
      if (next === undefined || Array.isArray(next)) {
        const created: ErrorTree = {};
        node[name] = created;
        node = created;
      } else {
        node = next;
      }
    }
    (node._errors ??= []).push(error);
    this.count++;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  get errors(): ErrorTree {
    return this.tree;
  }

  /** Throws 400 Invalid Form Body when anything was added. */
  throwIfAny(): void {
    if (!this.empty) throw new DiscordApiError(400, 50035, 'Invalid Form Body', this.tree);
  }
}

export const invalidFormBody = (path: ReadonlyArray<string | number>, error: FieldError): DiscordApiError => {
  const errors = new FormErrors();
  errors.add(path, error);
  return new DiscordApiError(400, 50035, 'Invalid Form Body', errors.errors);
};

// Field error codes and messages Discord uses in 50035 answers.
export const FIELD = {
  required: (): FieldError => ({ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }),
  maxLength: (max: number): FieldError => ({ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` }),
  badLength: (min: number, max: number): FieldError => ({
    code: 'BASE_TYPE_BAD_LENGTH',
    message: `Must be between ${min} and ${max} in length.`,
  }),
  string: (): FieldError => ({ code: 'BASE_TYPE_STRING', message: 'Could not interpret "{}" as string.' }),
  enumValue: (value: unknown): FieldError => ({
    code: 'ENUM_TYPE_COERCE',
    message: `Value "${String(value)}" is not a valid enum value.`,
  }),
  unionType: (allowed: number[]): FieldError => ({
    code: 'UNION_TYPE_CHOICES',
    message: `Value of field "type" must be one of (${allowed.join(', ')},).`,
  }),
  customIdRequired: (): FieldError => ({ code: 'BUTTON_COMPONENT_CUSTOM_ID_REQUIRED', message: 'A custom id is required' }),
  customIdDuplicated: (): FieldError => ({ code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: 'Component custom id cannot be duplicated' }),
  invalidUrl: (): FieldError => ({ code: 'URL_TYPE_INVALID_URL', message: 'Not a well formed URL.' }),
  commandName: (): FieldError => ({ code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' }),
  duplicateCommandName: (): FieldError => ({
    code: 'APPLICATION_COMMANDS_DUPLICATE_NAME',
    message: 'Application command names must be unique',
  }),
} as const;

export const ERR = {
  unauthorized: () => new DiscordApiError(401, 0, '401: Unauthorized'),
  notFound: () => new DiscordApiError(404, 0, '404: Not Found'),
  methodNotAllowed: () => new DiscordApiError(405, 0, '405: Method Not Allowed'),
  unknownChannel: () => new DiscordApiError(404, 10003, 'Unknown Channel'),
  unknownMessage: () => new DiscordApiError(404, 10008, 'Unknown Message'),
  unknownUser: () => new DiscordApiError(404, 10013, 'Unknown User'),
  unknownWebhook: () => new DiscordApiError(404, 10015, 'Unknown Webhook'),
  unknownInteraction: () => new DiscordApiError(404, 10062, 'Unknown interaction'),
  unknownCommand: () => new DiscordApiError(404, 10063, 'Unknown application command'),
  unknownApplication: () => new DiscordApiError(404, 10002, 'Unknown Application'),
  unknownMember: () => new DiscordApiError(404, 10007, 'Unknown Member'),
  unknownGuild: () => new DiscordApiError(404, 10004, 'Unknown Guild'),
  missingAccess: () => new DiscordApiError(403, 50001, 'Missing Access'),
  missingPermissions: () => new DiscordApiError(403, 50013, 'Missing Permissions'),
  wrongChannelType: () => new DiscordApiError(400, 50024, 'Cannot execute action on this channel type'),
  /** 400 for edits, deletes and joins in an archived thread; 403 for sends in a locked one. */
  threadArchived: (status: 400 | 403 = 400) => new DiscordApiError(status, 50083, 'Thread is archived'),
  threadAlreadyCreated: () => new DiscordApiError(400, 160004, 'A thread has already been created for this message'),
  cannotEditOthers: () => new DiscordApiError(403, 50005, 'Cannot edit a message authored by another user'),
  emptyMessage: () => new DiscordApiError(400, 50006, 'Cannot send an empty message'),
  dmsClosed: () => new DiscordApiError(403, 50007, 'Cannot send messages to this user'),
  invalidWebhookToken: () => new DiscordApiError(401, 50027, 'Invalid Webhook Token'),
  invalidRecipient: () => new DiscordApiError(400, 50033, 'Invalid Recipient(s)'),
  invalidApiVersion: () => new DiscordApiError(400, 50041, 'Invalid API version provided'),
  invalidJson: () => new DiscordApiError(400, 50109, 'The request body contains invalid JSON.'),
  alreadyAcknowledged: () => new DiscordApiError(400, 40060, 'Interaction has already been acknowledged.'),
  entityTooLarge: () => new DiscordApiError(413, 40005, 'Request entity too large'),
  /** A real route the fake does not implement: loud, never a plausible-looking answer. */
  notModelled: (what: string) => new DiscordApiError(501, 0, `fake-discord does not model ${what}`),
} as const;
