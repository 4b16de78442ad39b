/**
 * What `pnpm start` runs with unless told otherwise, and so what `imsync send` aims at by default.
 * DEMO VALUES: a made-up SDKAppID and a token that is public; set your own for anything real.
 */
export const LOCAL_DEFAULTS = {
  port: 8080,
  sdkAppId: '1600012345',
  token: 'imsync-demo-token',
  callbackPath: '/im/callback',
  dashboardPort: 3000,
  dashboardUser: 'admin',
  dashboardPassword: 'imsync-demo-password',
} as const;

export function defaultCallbackUrl(env: NodeJS.ProcessEnv): string {
  const port = env.PORT ?? String(LOCAL_DEFAULTS.port);
  return `http://127.0.0.1:${port}${env.CALLBACK_PATH ?? LOCAL_DEFAULTS.callbackPath}`;
}
