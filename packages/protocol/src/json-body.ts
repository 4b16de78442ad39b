/** Deepest legitimate body is about 9 levels (relay → MsgList → MsgBody → element → content). */
export const DEFAULT_MAX_JSON_DEPTH = 32;

/** The most a deployment may configure; workers re-parse with it, trusting the receiver's own limit. */
export const MAX_JSON_DEPTH_LIMIT = 1000;

export type JsonBodyFailure = 'encoding' | 'depth' | 'syntax' | 'forbidden_key';

export type JsonBodyResult =
  | { ok: true; text: string; value: unknown }
  | { ok: false; reason: JsonBodyFailure; detail: string };

// Strict: invalid UTF-8 is an error, never replaced with U+FFFD (that would corrupt stored text).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a raw request body as strict UTF-8 JSON, whatever its Content-Type said. Nesting is
 * bounded before parsing so no later recursive walk (validation, serialisation) can overflow.
 * A UTF-8 BOM is dropped (it is not part of the JSON text). A body with a `__proto__`,
 * `constructor` or `prototype` key anywhere is refused: Tencent never sends one, and the body is
 * archived and forwarded verbatim to code that may merge it into its own objects.
 */
export function decodeJsonBody(bytes: Uint8Array, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonBodyResult {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'encoding', detail: 'body is not valid UTF-8' };
  }
  return parseJsonText(text, maxDepth);
}

/** Parses JSON text with the same nesting bound (for bodies that are already text, as in a job). */
export function parseJsonText(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonBodyResult {
  if (exceedsDepth(text, maxDepth)) {
    return { ok: false, reason: 'depth', detail: `JSON nesting deeper than ${maxDepth}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'syntax', detail: (error as Error).message };
  }
  // Only text that spells one of the words, or hides a key behind \u escapes, needs the walk.
  if (MAY_HOLD_FORBIDDEN_KEY.test(text)) {
    const path = forbiddenKeyPath(value);
    if (path !== undefined) {
      return { ok: false, reason: 'forbidden_key', detail: `${path}: key not allowed` };
    }
  }
  return { ok: true, text, value };
}

/** Keys that name or reach a prototype in JavaScript. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const MAY_HOLD_FORBIDDEN_KEY = /__proto__|constructor|prototype|\\u/;

/** The dotted path of the first forbidden key in a parsed JSON value, if any. */
function forbiddenKeyPath(value: unknown, path = ''): string | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = forbiddenKeyPath(value[i], `${path}[${i}]`);
      if (found !== undefined) {
        return found;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const here = path === '' ? key : `${path}.${key}`;
    if (FORBIDDEN_KEYS.has(key)) {
      return here;
    }
    const found = forbiddenKeyPath((value as Record<string, unknown>)[key], here);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Counts open brackets outside strings; malformed text is left for JSON.parse to reject. */
export function exceedsDepth(text: string, maxDepth: number): boolean {
  // Nesting can never be deeper than the number of brackets in the whole text, strings included:
  // counting them natively settles almost every real body without the character-by-character scan.
  if (countUpTo(text, '{', maxDepth + 1) + countUpTo(text, '[', maxDepth + 1) <= maxDepth) {
    return false;
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) {
        i++;
      } else if (code === QUOTE) {
        inString = false;
      }
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > maxDepth) {
        return true;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** How often `char` occurs in `text`, counting no further than `limit`. */
function countUpTo(text: string, char: string, limit: number): number {
  let count = 0;
  for (let at = text.indexOf(char); at !== -1 && count < limit; at = text.indexOf(char, at + 1)) {
    count++;
  }
  return count;
}
