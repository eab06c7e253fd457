// Bot API error responses. Descriptions are copied from what api.telegram.org answers
// (tdlib/telegram-bot-api Client.cpp and live-API test suites), because product code
// matches on them: a paraphrase here would let a wrong `includes(...)` pass in tests.

export interface ResponseParameters {
  retry_after?: number;
  migrate_to_chat_id?: number;
}

export class BotApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(`${code}: ${description}`);
    this.name = 'BotApiError';
  }
}

export const badRequest = (text: string): BotApiError => new BotApiError(400, `Bad Request: ${text}`);
export const forbidden = (text: string): BotApiError => new BotApiError(403, `Forbidden: ${text}`);
export const conflict = (text: string): BotApiError => new BotApiError(409, `Conflict: ${text}`);
export const tooManyRequests = (retryAfter: number): BotApiError =>
  new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });

export const UNAUTHORIZED = (): BotApiError => new BotApiError(401, 'Unauthorized');
export const NOT_FOUND = (): BotApiError => new BotApiError(404, 'Not Found');

/** Descriptions (after the `Bad Request: ` / `Forbidden: ` prefix) that product code may match on. */
export const TEXT = {
  chatNotFound: 'chat not found',
  chatIdEmpty: 'chat_id is empty',
  cantInitiate: "bot can't initiate conversation with a user",
  blocked: 'bot was blocked by the user',
  messageTextEmpty: 'message text is empty',
  textMustBeNonEmpty: 'text must be non-empty',
  messageTooLong: 'message is too long',
  captionTooLong: 'message caption is too long',
  unsupportedParseMode: 'unsupported parse_mode',
  cantParseEntities: "can't parse entities: ",
  buttonDataInvalid: 'BUTTON_DATA_INVALID',
  notModified:
    'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  messageToEditNotFound: 'message to edit not found',
  messageToDeleteNotFound: 'message to delete not found',
  messageCantBeEdited: "message can't be edited",
  messageCantBeDeleted: "message can't be deleted",
  messageIdMissing: 'message identifier is not specified',
  noTextToEdit: 'there is no text in the message to edit',
  noCaptionToEdit: 'there is no caption in the message to edit',
  replyNotFound: 'message to be replied not found',
  threadNotFound: 'message thread not found',
  queryTooOld: 'query is too old and response timeout expired or query ID is invalid',
  callbackAnswerTooLong: 'MESSAGE_TOO_LONG',
  noPhoto: 'there is no photo in the request',
  noDocument: 'there is no document in the request',
  imageProcessFailed: 'IMAGE_PROCESS_FAILED',
  photoInvalidDimensions: 'PHOTO_INVALID_DIMENSIONS',
  fileEmpty: 'file must be non-empty',
  fileTooBig: 'file is too big',
  messageToCopyNotFound: 'message to copy not found',
  wrongFileId: 'wrong file identifier/HTTP URL specified',
  urlContentFailed: 'failed to get HTTP URL content',
  wrongChatAction: 'wrong parameter action in request',
  invalidWebhookUrl: 'invalid webhook URL specified',
  secretTokenTooLong: 'secret token is too long',
  secretTokenChars: 'secret token contains unallowed characters',
  conflictOtherGetUpdates: 'terminated by other getUpdates request; make sure that only one bot instance is running',
  conflictWebhookActive:
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  conflictSetWebhook: 'terminated by setWebhook request',
} as const;
