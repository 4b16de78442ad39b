/**
 * The demo credentials of `pnpm start` and `.env.example`: public, so they must never protect
 * anything reachable from another machine (the dashboard refuses its demo password off loopback).
 */
export const DEMO_VALUES = {
  sdkAppId: '1600012345',
  callbackToken: 'imsync-demo-token',
  dashboardUser: 'admin',
  dashboardPassword: 'imsync-demo-password',
} as const;
