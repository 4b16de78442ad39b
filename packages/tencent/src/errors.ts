/**
 * What the caller should do about a failed call:
 * - `throttled`: Tencent's rate limit; back off (with jitter) and try again.
 * - `retry`: a passing fault (Tencent's internal error, the network, a timeout, HTTP 5xx); try again.
 * - `group_gone`: the group does not exist (any more); stop working on it.
 * - `signature`: the admin UserSig was refused (a wrong key, SDKAppID or region); fix the config.
 * - `permission`: the identifier is not an app admin; fix the config.
 * - `fatal`: anything else (a bad request, an answer we do not understand); retrying won't help.
 */
export type TencentErrorKind = 'throttled' | 'retry' | 'group_gone' | 'signature' | 'permission' | 'fatal';

/** `ErrorCode` when no answer from Tencent was read: network error, timeout, HTTP error, not Tencent's JSON. */
export const NO_TENCENT_CODE = -1;

// Tencent's codes (spec §1: the API's own table and the common REST table, S3/S11).
const KINDS: ReadonlyMap<number, TencentErrorKind> = new Map([
  // 60007/60011 rate or SDKAppID frequency over the limit; 60018/60019 "too frequent, retry later";
  // 10006 the group service's own frequency limit.
  [60007, 'throttled'],
  [60011, 'throttled'],
  [60018, 'throttled'],
  [60019, 'throttled'],
  [10006, 'throttled'],
  // 10002 internal error ("retry"); 60008 the service timed out.
  [10002, 'retry'],
  [60008, 'retry'],
  // 10010 the group is missing or dismissed; 10015 no group has this id.
  [10010, 'group_gone'],
  [10015, 'group_gone'],
  // 70001 expired (the client renews and retries once by itself); 70009 verification failed;
  // 70003 unparsable, 70013/70014 identifier/SDKAppID differ from the token's, 70016/70020 no
  // key or no such SDKAppID in this region, 70050 failed and now rate limited.
  [70001, 'signature'],
  [70003, 'signature'],
  [70009, 'signature'],
  [70013, 'signature'],
  [70014, 'signature'],
  [70016, 'signature'],
  [70020, 'signature'],
  [70050, 'signature'],
  // 10007 not allowed (not an admin); 60010 the request needs the app admin.
  [10007, 'permission'],
  [60010, 'permission'],
]);

export function classifyErrorCode(code: number): TencentErrorKind {
  return KINDS.get(code) ?? 'fatal';
}

/**
 * `text` without `secrets` (the UserSig, the secret key, in any encoding a URL or a message may
 * show them in) and without the value of any `usersig=` query parameter.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) {
    if (secret.length === 0) {
      continue;
    }
    for (const form of new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ s: secret }).toString().slice(2),
    ])) {
      redacted = redacted.split(form).join('***');
    }
  }
  return redacted.replace(/(usersig=)[^&\s"']*/gi, '$1***');
}
