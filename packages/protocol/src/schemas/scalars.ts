import * as v from 'valibot';

const UINT32_MAX = 4_294_967_295;

/** `MsgSeq`, `Random`: JSON numbers only; a digit string is a different message identity, never coerced. */
export const Uint32Schema = v.pipe(
  v.number('must be a number'),
  v.integer('must be an integer'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(UINT32_MAX, 'must be ≤ 4294967295'),
);

/** Unix time in seconds (`MsgTime`, `MsgTimeStamp`). */
export const UnixSecondsSchema = v.pipe(
  v.number('must be a number'),
  v.integer('must be an integer'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(Number.MAX_SAFE_INTEGER, 'must be a safe integer'),
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

/** `EventTime` in milliseconds; some Tencent samples send it as a digit string, so both normalise to a number. */
export const EventTimeSchema = v.union(
  [
    NonNegativeIntSchema,
    v.pipe(v.string(), v.regex(/^\d{1,16}$/, 'must be digits'), v.transform(Number), NonNegativeIntSchema),
  ],
  'must be milliseconds as a number or a digit string',
);

/** 0/1 flags (`OnlineOnlyFlag`, `GroupAtAllFlag`). */
export const FlagSchema = v.picklist([0, 1], 'must be 0 or 1');

export const FiniteNumberSchema = v.pipe(v.number('must be a number'), v.finite('must be finite'));
