export { DEFAULT_TENCENT_API_BASE_URL, TENCENT_API_BASE_URLS, TENCENT_API_VARS } from './config.js';
export { genUserSig, type UserSigOptions, verifyUserSig } from './usersig.js';
