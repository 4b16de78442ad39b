import type { Producer } from '@imsync/queue';
import type { OpsRoutesOptions } from '@imsync/runtime';
import type { Registry } from 'prom-client';

export interface ReceiverOpsDeps {
  registry: Registry;
  producer: Pick<Producer, 'ping'>;
  /** False once shutdown began: /readyz turns 503 so traffic moves elsewhere. */
  isAccepting?: () => boolean;
}

/** What the receiver's ops server (`/readyz`, `/metrics`, `/healthz`) reports: Redis, and shutdown. */
export function receiverOpsRoutes(deps: ReceiverOpsDeps): OpsRoutesOptions {
  return {
    registry: deps.registry,
    isAccepting: deps.isAccepting,
    checks: { redis: () => deps.producer.ping() },
  };
}
