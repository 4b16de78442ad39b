import { messageKey } from '@imsync/protocol';
import type { ArchivedMessage, Sink, StoreOutcome } from './sink.js';

/** Keeps messages in a Map: for tests of code that needs a sink but not PostgreSQL. */
export class MemorySink implements Sink {
  readonly name = 'memory';
  readonly messages = new Map<string, ArchivedMessage>();

  async store(message: ArchivedMessage): Promise<StoreOutcome> {
    const key = messageKey(message.identity);
    if (this.messages.has(key)) {
      return 'duplicate';
    }
    this.messages.set(key, message);
    return 'stored';
  }

  async close(): Promise<void> {}
}
