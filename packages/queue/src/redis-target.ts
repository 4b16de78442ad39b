import { intVar } from '@imsync/runtime';
import * as v from 'valibot';

/** A host and port, as a cluster's or Sentinel's node list gives them (a type literal, so the apps' config types can name it). */
type HostPort = { readonly host: string; readonly port: number };

/**
 * Where Redis is, read from `REDIS_URL` (and the variables beside it):
 * - `redis://` or `rediss://` (TLS): one server, as ever;
 * - `redis+cluster://[user:password@]host:port,host:port…`: a Redis Cluster, found from any of
 *   the nodes listed (`rediss+cluster://` with TLS);
 * - `redis+sentinel://[user:password@]host:port,host:port…/master-name`: the master that those
 *   Sentinels name, followed through failovers (`rediss+sentinel://` with TLS).
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly HostPort[];
      readonly username?: string;
      readonly password?: string;
      readonly tls: boolean;
      /** Addresses the cluster announces → addresses reachable from here (clients outside its network). */
      readonly natMap?: Readonly<Record<string, HostPort>>;
    }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly HostPort[];
      readonly masterName: string;
      readonly username?: string;
      readonly password?: string;
      /** The Sentinels' own password, when they require one (REDIS_SENTINEL_PASSWORD). */
      readonly sentinelPassword?: string;
      readonly tls: boolean;
    };

const MULTI_HOST = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)(?:\/([^?#]*))?$/;
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:,[\]]+):(\d{1,5})$/;

function hostPorts(list: string): HostPort[] | undefined {
  const nodes: HostPort[] = [];
  for (const entry of list.split(',')) {
    const match = HOST_PORT.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      return undefined;
    }
    nodes.push({ host: (match[1] as string).replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}

const decode = (text: string | undefined) => (text ? decodeURIComponent(text) : undefined);

/** The target a `REDIS_URL` names, or a reason it names none (never quoting its credentials). */
export function parseRedisUrl(url: string): RedisTarget | { problem: string } {
  if (/^rediss?:\/\//.test(url)) {
    try {
      new URL(url);
      return { kind: 'single', url };
    } catch {
      return { problem: 'is not a valid URL' };
    }
  }
  const match = MULTI_HOST.exec(url);
  if (!match) {
    return {
      problem:
        'must be redis://host:port, rediss://…, redis+cluster://host:port,host:port… or redis+sentinel://host:port,…/master-name',
    };
  }
  const [, scheme, kind, user, password, hosts, path] = match;
  const nodes = hostPorts(hosts as string);
  if (!nodes) {
    return { problem: 'lists a node that is not host:port' };
  }
  const credentials = {
    ...(decode(user) && { username: decode(user) }),
    ...(decode(password) && { password: decode(password) }),
  };
  const tls = scheme === 'rediss';
  if (kind === 'cluster') {
    return { kind: 'cluster', nodes, tls, ...credentials };
  }
  const masterName = decode(path);
  if (!masterName) {
    return { problem: 'must name the master after the Sentinels: redis+sentinel://host:port,…/master-name' };
  }
  return { kind: 'sentinel', sentinels: nodes, masterName, tls, ...credentials };
}

/** `REDIS_NAT_MAP`: `announced-host:port=reachable-host:port,…`, for a cluster behind NAT. */
const NatMapSchema = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const map: Record<string, HostPort> = {};
    for (const entry of dataset.value.split(',').filter((each) => each.trim() !== '')) {
      const [from, to] = entry.split('=');
      const reachable = to === undefined ? undefined : hostPorts(to);
      if (!from || !hostPorts(from) || reachable?.length !== 1) {
        addIssue({ message: 'must list announced-host:port=reachable-host:port pairs, comma-separated' });
        return NEVER;
      }
      map[from.trim()] = reachable[0] as HostPort;
    }
    return map;
  }),
);

/**
 * The Redis variables every process reads, to spread into its config schema. `parseConfig`
 * never shows a URL's credentials, nor REDIS_SENTINEL_PASSWORD (its name says PASSWORD).
 */
export const REDIS_VARS = {
  REDIS_URL: v.pipe(
    v.string('is required'),
    v.check(
      (url) => !('problem' in parseRedisUrl(url)),
      'must be redis://, rediss://, redis+cluster:// or redis+sentinel://',
    ),
  ),
  /** The Sentinels' password, when they require one (the URL's credentials are the master's). */
  REDIS_SENTINEL_PASSWORD: v.optional(v.string()),
  /** For a cluster whose nodes announce addresses this process cannot reach (another network). */
  REDIS_NAT_MAP: v.optional(NatMapSchema),
  /**
   * Replicas that must hold a job before it counts as written (Redis WAIT): with 1, a failover
   * cannot lose an acknowledged callback (replication is asynchronous); 0 trusts the master alone.
   */
  REDIS_WAIT_REPLICAS: intVar(0, 0, 16),
};

/** The target of a parsed config's Redis variables. */
export function redisTarget(config: {
  REDIS_URL: string;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_NAT_MAP?: Readonly<Record<string, HostPort>> | undefined;
}): RedisTarget {
  const target = parseRedisUrl(config.REDIS_URL);
  if ('problem' in target) {
    throw new Error(`REDIS_URL ${target.problem}`);
  }
  if (target.kind === 'cluster' && config.REDIS_NAT_MAP) {
    return { ...target, natMap: config.REDIS_NAT_MAP };
  }
  if (target.kind === 'sentinel' && config.REDIS_SENTINEL_PASSWORD) {
    return { ...target, sentinelPassword: config.REDIS_SENTINEL_PASSWORD };
  }
  return target;
}
