import { GROUP_AFTER_SEND_MSG } from './commands.js';
import { computeSign } from './signature.js';

export interface CallbackQueryOptions {
  sdkAppId: string;
  /** Signs the query when given, the way the IM backend does with callback authentication on. */
  token?: string;
  command?: string;
  /** Unix seconds; defaults to now. */
  requestTime?: number;
  optPlatform?: string;
}

/** The callback URL with the query the IM backend appends (spec §1): what the simulator and tests send. */
export function signedCallbackUrl(base: string, options: CallbackQueryOptions): string {
  const url = new URL(base);
  url.searchParams.set('SdkAppid', options.sdkAppId);
  url.searchParams.set('CallbackCommand', options.command ?? GROUP_AFTER_SEND_MSG);
  url.searchParams.set('contenttype', 'json');
  url.searchParams.set('ClientIP', '203.0.113.24');
  url.searchParams.set('OptPlatform', options.optPlatform ?? 'Android');
  if (options.token !== undefined) {
    const requestTime = options.requestTime ?? Math.floor(Date.now() / 1000);
    url.searchParams.set('RequestTime', String(requestTime));
    url.searchParams.set('Sign', computeSign(options.token, requestTime));
  }
  return url.toString();
}
