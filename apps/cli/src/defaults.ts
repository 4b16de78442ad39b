import { DEMO_VALUES } from '@imsync/runtime';

/**
 * What `pnpm start` runs with unless told otherwise, and so what `imsync send` aims at by default.
 * DEMO VALUES: a made-up SDKAppID and a token that is public; set your own for anything real.
 */
export const LOCAL_DEFAULTS = {
  port: 8080,
  sdkAppId: DEMO_VALUES.sdkAppId,
  token: DEMO_VALUES.callbackToken,
  callbackPath: '/im/callback',
  dashboardPort: 3000,
  /** `pnpm start --fake-tencent`: where the fake Tencent REST API listens. */
  fakeTencentPort: 8090,
  /** The demo app's secret key on the fake Tencent API (never a real key). */
  fakeTencentSecretKey: 'imsync-demo-secret-key',
  dashboardUser: DEMO_VALUES.dashboardUser,
  dashboardPassword: DEMO_VALUES.dashboardPassword,
} as const;

export function defaultCallbackUrl(env: NodeJS.ProcessEnv): string {
  const port = env.PORT ?? String(LOCAL_DEFAULTS.port);
  return `http://127.0.0.1:${port}${env.CALLBACK_PATH ?? LOCAL_DEFAULTS.callbackPath}`;
}
