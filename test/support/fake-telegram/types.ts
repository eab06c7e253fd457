// JSON shapes the fake Telegram speaks (a subset of the Bot API types) and the records it
// keeps for tests to inspect. Kept local so the fake does not depend on a client library's
// idea of the protocol.

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export type ChatType = 'private' | 'group' | 'supergroup';

export interface TgChat {
  id: number;
  type: ChatType;
  title?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
  is_forum?: true;
}

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
  user?: TgUser;
}

export interface InlineKeyboardButton {
  text: string;
  callback_data?: string;
  url?: string;
  [field: string]: unknown;
}

export interface InlineKeyboardMarkup {
  inline_keyboard: InlineKeyboardButton[][];
}

export interface PhotoSize {
  file_id: string;
  file_unique_id: string;
  file_size: number;
  width: number;
  height: number;
}

export interface TgDocument {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size: number;
}

export interface TgMessage {
  message_id: number;
  message_thread_id?: number;
  is_topic_message?: true;
  from?: TgUser;
  chat: TgChat;
  date: number;
  edit_date?: number;
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  photo?: PhotoSize[];
  document?: TgDocument;
  reply_markup?: InlineKeyboardMarkup;
  reply_to_message?: TgMessage;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message: TgMessage;
  chat_instance: string;
  data: string;
}

export interface TgChatMemberUpdated {
  chat: TgChat;
  from: TgUser;
  date: number;
  old_chat_member: { status: string; user: TgUser };
  new_chat_member: { status: string; user: TgUser };
}

/** One update as Telegram hands it out: `update_id` plus exactly one payload field. */
export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  callback_query?: TgCallbackQuery;
  my_chat_member?: TgChatMemberUpdated;
}

export type UpdateKind = 'message' | 'callback_query' | 'my_chat_member';

/** Bytes the bot uploaded (or a test supplied), addressable by file_id like on Telegram. */
export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  kind: 'photo' | 'document';
  fileName?: string;
  mimeType?: string;
  bytes: Buffer;
  width?: number;
  height?: number;
  filePath: string;
}

/** The content of a message before an edit replaced it. */
export interface MessageVersion {
  text?: string;
  entities: MessageEntity[];
  caption?: string;
  captionEntities: MessageEntity[];
  replyMarkup?: InlineKeyboardMarkup;
  /** Epoch milliseconds when this version was replaced. */
  replacedAt: number;
}

/** A message in a chat as the fake stores it: current content plus every earlier version. */
export interface FakeMessage {
  chatId: number;
  messageId: number;
  threadId?: number;
  fromBot: boolean;
  from: TgUser;
  kind: 'text' | 'photo' | 'document';
  text?: string;
  entities: MessageEntity[];
  caption?: string;
  captionEntities: MessageEntity[];
  replyMarkup?: InlineKeyboardMarkup;
  file?: StoredFile;
  replyToMessageId?: number;
  /** Unix seconds, like Telegram's `date`. */
  date: number;
  editDate?: number;
  /** Earlier versions, oldest first. */
  history: MessageVersion[];
  deleted: boolean;
  /** Epoch milliseconds of the last send, edit or delete; lets waiters tell new changes from old. */
  changedAt: number;
}

export interface UploadedFile {
  fileName: string;
  contentType: string;
  bytes: Buffer;
}

/** A logged Bot API request, in arrival order, with the answer the fake gave. */
export interface ApiCall {
  botId: number;
  method: string;
  /** Parameters as the fake read them; uploads appear as `{ fileName, size }`. */
  params: Record<string, unknown>;
  httpStatus: number;
  ok: boolean;
  errorCode?: number;
  description?: string;
  result?: unknown;
  /** Epoch milliseconds when the request arrived. */
  at: number;
  /** The call came back in a webhook response body instead of its own HTTP request. */
  viaWebhookReply: boolean;
  /** A test-injected fault produced this answer. */
  injected: boolean;
}

export interface CallbackAnswer {
  text?: string;
  showAlert: boolean;
  url?: string;
  cacheTime: number;
  /** Milliseconds between the click and the answer. */
  answeredAfterMs: number;
}

export interface BotCommand {
  command: string;
  description: string;
}
