// API sentences built from checked values. Warden never sends CLI text to a router: every
// command is a menu path plus `=name=value` / `?name=value` words, and anything that cannot be
// a valid word is refused here, before it reaches the wire.

import { RouterError } from './errors.js';
import { isWin1252Encodable } from './win1252.js';

/** One `!re` row: property name to value, as the router printed it. Unset properties are absent. */
export type RouterRow = Readonly<Record<string, string>>;

export type RouterAttributes = Readonly<Record<string, string>>;

/** The four generic menu commands; RouterClient implements them, RouterOps builds on them. */
export interface RouterCommands {
  /** `print` with `?name=value` conditions (all must hold) and an optional property list. */
  print(menu: string, where?: RouterAttributes, proplist?: readonly string[]): Promise<RouterRow[]>;
  /** `add`; resolves to the new item's `.id`. */
  add(menu: string, attributes: RouterAttributes): Promise<string>;
  remove(menu: string, id: string): Promise<void>;
  set(menu: string, id: string, attributes: RouterAttributes): Promise<void>;
}

const MENU = /^(\/[a-z0-9][a-z0-9-]*)+$/;
const PROPERTY = /^[a-z0-9][a-z0-9-]*$/i;
const ITEM_ID = /^\*[0-9A-F]+$/i;
/** Words are length-prefixed, but no value Warden sends has a reason to carry these; they only appear in injection attempts. */
const FORBIDDEN_CHARACTERS = /[\0\r\n]/;
const MAX_VALUE_LENGTH = 4096;

function invalid(message: string): RouterError {
  return new RouterError('invalid-argument', message);
}

export function checkMenu(menu: string): string {
  if (!MENU.test(menu)) throw invalid(`not a menu path: ${JSON.stringify(menu)} (expected e.g. /ip/firewall/address-list)`);
  return menu;
}

export function checkItemId(id: string): string {
  if (!ITEM_ID.test(id)) throw invalid(`not an item id: ${JSON.stringify(id)} (expected e.g. *1A)`);
  return id;
}

function checkPropertyName(name: string, allowId: boolean): string {
  if (!(PROPERTY.test(name) || (allowId && name === '.id'))) throw invalid(`not a property name: ${JSON.stringify(name)}`);
  return name;
}

export function checkValue(name: string, value: string): string {
  if (typeof value !== 'string') throw invalid(`value of ${name} must be a string`);
  if (FORBIDDEN_CHARACTERS.test(value)) throw invalid(`value of ${name} contains a newline or NUL`);
  if (value.length > MAX_VALUE_LENGTH) throw invalid(`value of ${name} is longer than ${MAX_VALUE_LENGTH} characters`);
  // node-routeros writes Windows-1252 and replaces anything else with '?', silently.
  if (!isWin1252Encodable(value)) throw invalid(`value of ${name} has characters RouterOS cannot store (Windows-1252 only)`);
  return value;
}

/** `=name=value` words for add/set; API attributes (`.id`, `.proplist`) are not accepted from callers. */
export function attributeWords(attributes: RouterAttributes): string[] {
  return Object.entries(attributes).map(([name, value]) => `=${checkPropertyName(name, false)}=${checkValue(name, value)}`);
}

/** `?name=value` words; the router and-s them. `.id` is allowed here. */
export function queryWords(where: RouterAttributes): string[] {
  return Object.entries(where).map(([name, value]) => `?${checkPropertyName(name, true)}=${checkValue(name, value)}`);
}

export function proplistWord(names: readonly string[]): string {
  if (names.length === 0) throw invalid('proplist must name at least one property');
  return `=.proplist=${names.map((name) => checkPropertyName(name, true)).join(',')}`;
}
