import * as v from 'valibot';

/**
 * Tencent's REST API host for each data centre (spec §1, "Request URL" of every REST page). An
 * app can only be reached on the host of the region it was created in. Mumbai is listed by the
 * older pages and missing from the newest ones; Tokyo the other way round.
 */
export const TENCENT_API_BASE_URLS = {
  china: 'https://console.tim.qq.com',
  singapore: 'https://adminapisgp.im.qcloud.com',
  seoul: 'https://adminapikr.im.qcloud.com',
  tokyo: 'https://adminapijpn.im.qcloud.com',
  frankfurt: 'https://adminapiger.im.qcloud.com',
  mumbai: 'https://adminapiind.im.qcloud.com',
  'silicon-valley': 'https://adminapiusa.im.qcloud.com',
  jakarta: 'https://adminapiidn.im.qcloud.com',
} as const;

export const DEFAULT_TENCENT_API_BASE_URL = TENCENT_API_BASE_URLS.china;

/** Tencent's default admin account, created with every app. */
const DEFAULT_ADMIN_IDENTIFIER = 'administrator';

const regions: ReadonlySet<string> = new Set(Object.keys(TENCENT_API_BASE_URLS));

/** A region name, or an http(s) URL without credentials, query or fragment; no trailing slash. */
function toBaseUrl(value: string): string | undefined {
  const region = value.trim().toLowerCase();
  if (regions.has(region)) {
    return TENCENT_API_BASE_URLS[region as keyof typeof TENCENT_API_BASE_URLS];
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const plain = url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  if (!plain || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return undefined;
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * The variables that let an app call Tencent's REST API as the app admin, to spread into an
 * app's config schema (`v.object({ ...TENCENT_API_VARS, … })`):
 *
 * - `TIM_API_BASE_URL`: the host of the app's region, by name (`china`, `singapore`, `seoul`,
 *   `tokyo`, `frankfurt`, `mumbai`, `silicon-valley`, `jakarta`) or as an http(s) URL (the fake
 *   Tencent API, a proxy). China's host when unset.
 * - `TIM_SECRET_KEY`: the app's key from the Chat console, which signs the admin's UserSig.
 *   Optional: without it nothing calls Tencent. `parseConfig` never shows it (its name says SECRET).
 * - `TIM_ADMIN_IDENTIFIER`: the app admin account the calls are made as; `administrator` (the
 *   account Tencent creates with every app) when unset.
 */
export const TENCENT_API_VARS = {
  TIM_API_BASE_URL: v.pipe(
    v.optional(v.string(), DEFAULT_TENCENT_API_BASE_URL),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const url = toBaseUrl(dataset.value);
      if (url === undefined) {
        addIssue({
          message: `must be a region (${[...regions].join(', ')}) or an http(s) URL without credentials or query`,
        });
        return NEVER;
      }
      return url;
    }),
  ),
  TIM_SECRET_KEY: v.optional(
    v.pipe(v.string(), v.regex(/^\S+$/, 'must be the key from the Chat console, with no spaces or line breaks')),
  ),
  TIM_ADMIN_IDENTIFIER: v.pipe(
    v.optional(v.string(), DEFAULT_ADMIN_IDENTIFIER),
    v.regex(/^\S+$/, 'must be an account name with no spaces'),
    // Tencent's limit for a UserID.
    v.maxBytes(32, 'must be at most 32 bytes'),
  ),
};
