export type { GroupHistoryRequest, HistoryItem, HistoryPage, TencentApi, TencentResult } from './api.js';
export { createTencentApi, type TencentApiOptions } from './client.js';
export { DEFAULT_TENCENT_API_BASE_URL, TENCENT_API_BASE_URLS, TENCENT_API_VARS } from './config.js';
export { NO_TENCENT_CODE, type TencentErrorKind } from './errors.js';
export { type FakeTencent, type FakeTencentOptions, startFakeTencent } from './fake/server.js';
export type { ThrottleOptions } from './fake/throttle.js';
export { genUserSig, verifyUserSig } from './usersig.js';
