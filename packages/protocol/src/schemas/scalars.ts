import * as v from 'valibot';

const UINT32_MAX = 4_294_967_295;

/** `MsgSeq`, `Random`: JSON numbers only; a digit string is a different message identity, never coerced. */
export const Uint32Schema = v.pipe(
  v.number('must be a number'),
  v.integer('must be an integer'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(UINT32_MAX, 'must be ≤ 4294967295'),
);

/**
 * The last second of year 9999: any later time is not a real message's, and PostgreSQL's
 * `to_timestamp` refuses values far beyond it, which would lose an already acknowledged message.
 */
const MAX_UNIX_SECONDS = 253_402_300_799;

/** Unix time in seconds (`MsgTime`, `MsgTimeStamp`). */
export const UnixSecondsSchema = v.pipe(
  v.number('must be a number'),
  v.integer('must be an integer'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(MAX_UNIX_SECONDS, 'must be a time before the year 10000'),
);

/**
 * Whether text survives a PostgreSQL `text` column unchanged: it holds no U+0000, and a lone
 * surrogate would be written as U+FFFD, so two different ids would become one.
 */
function isStorableText(text: string): boolean {
  return text.isWellFormed() && !text.includes('\u0000');
}

/** A string the archive keeps in a column of its own (ids, accounts, the group type). */
export const ColumnTextSchema = v.pipe(
  v.string('must be a string'),
  v.check(isStorableText, 'must not contain U+0000 or an unpaired surrogate'),
);

export const NonNegativeIntSchema = v.pipe(
  v.number('must be a number'),
  v.integer('must be an integer'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(Number.MAX_SAFE_INTEGER, 'must be a safe integer'),
);

export const IntSchema = v.pipe(
  v.number('must be a number'),
  v.integer('must be an integer'),
  v.safeInteger('must be a safe integer'),
);

const EventMillisSchema = v.pipe(
  NonNegativeIntSchema,
  v.maxValue(MAX_UNIX_SECONDS * 1000 + 999, 'must be a time before the year 10000'),
);

/** `EventTime` in milliseconds; some Tencent samples send it as a digit string, so both normalise to a number. */
export const EventTimeSchema = v.union(
  [
    EventMillisSchema,
    v.pipe(v.string(), v.regex(/^\d{1,16}$/, 'must be digits'), v.transform(Number), EventMillisSchema),
  ],
  'must be milliseconds as a number or a digit string',
);

/** 0/1 flags (`OnlineOnlyFlag`, `GroupAtAllFlag`). */
export const FlagSchema = v.picklist([0, 1], 'must be 0 or 1');

export const FiniteNumberSchema = v.pipe(v.number('must be a number'), v.finite('must be finite'));

/**
 * An SDKAppID: digits that fit the archive's `bigint` column (Tencent's are 10 digits). A longer
 * one would be configured and acknowledged, and then refused by PostgreSQL for every message.
 */
export const SdkAppIdSchema = v.pipe(
  v.string('must be a string'),
  v.regex(/^[1-9]\d{0,17}$/, 'must be an SDKAppID: 1 to 18 digits, no leading zero'),
);
