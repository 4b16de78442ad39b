import type { SequenceKey } from '@imsync/sinks';
import { createTencentApi, type TencentApi, type TencentResult } from '@imsync/tencent';
import type { WorkerMetrics } from '../metrics.js';
import type { History } from './backfill.js';
import type { TailSource } from './scan.js';

export interface TencentAppsOptions {
  /** The secret key of each app that may be backfilled; other apps' holes are only recorded. */
  secretKeys: ReadonlyMap<string, string>;
  baseUrl: string;
  adminIdentifier: string;
  metrics: WorkerMetrics;
  /** Told of every failed call, with nothing secret in it (the client redacts). */
  onFailure(api: string, failure: { code: number; info: string; kind: string }, key: SequenceKey | undefined): void;
}

export interface TencentApps extends TailSource {
  history(sdkAppId: string): History | undefined;
}

/**
 * Tencent's REST API for each app with admin credentials, as gap detection and backfill use it:
 * the history of a group (backfill) and the newest seq of a group or topic (silent tails). Every
 * call is counted by api, outcome and Tencent's code.
 */
export function createTencentApps(options: TencentAppsOptions): TencentApps {
  const apis = new Map<string, TencentApi>(
    [...options.secretKeys].map(([sdkAppId, secretKey]) => [
      sdkAppId,
      createTencentApi({ baseUrl: options.baseUrl, sdkAppId, adminIdentifier: options.adminIdentifier, secretKey }),
    ]),
  );
  const counted = async <T>(api: string, key: SequenceKey | undefined, call: Promise<TencentResult<T>>) => {
    const result = await call;
    options.metrics.tencentCalls.inc({
      api,
      outcome: result.ok ? 'ok' : result.kind,
      code: result.ok ? '0' : String(result.code),
    });
    if (!result.ok) {
      options.onFailure(api, result, key);
    }
    return result;
  };

  return {
    serves: (sdkAppId) => apis.has(sdkAppId),
    served: [...apis.keys()],
    history(sdkAppId) {
      const api = apis.get(sdkAppId);
      return (
        api && {
          groupHistory: (request) =>
            counted(
              'group_msg_get_simple',
              { sdkAppId, groupId: request.groupId, topicId: request.topicId ?? '' },
              api.groupHistory(request),
            ),
        }
      );
    },
    async newestSeq(key) {
      const api = apis.get(key.sdkAppId);
      if (!api) {
        return undefined;
      }
      // NextMsgSeq is the seq the next message will get: everything below it has been sent.
      const result =
        key.topicId === ''
          ? await counted('get_group_info', key, api.groupInfo(key.groupId))
          : await counted('get_topic', key, api.topicInfo(key.groupId, key.topicId));
      return result.ok ? result.value.nextMsgSeq - 1 : undefined;
    },
  };
}
