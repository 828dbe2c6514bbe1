import { Injectable } from '@nestjs/common';
import type { MessageEventLike } from '../protocol/encoder';
import { DatastarPubSub, toEventList } from './datastar-pubsub';

/**
 * The embedded default: one process, no broker. Publishing calls every subscriber synchronously
 * with the same event objects (nothing is copied or serialised), before `publish()` returns.
 */
@Injectable()
export class MemoryPubSub extends DatastarPubSub {
  override async publish(
    topic: string,
    events: MessageEventLike | readonly MessageEventLike[],
  ): Promise<void> {
    const list = toEventList(topic, events);
    // After close() there is nobody left to deliver to: a late publish is a no-op, not an error.
    if (!this.closed) this.deliver(topic, list);
  }

  override async close(): Promise<void> {
    this.completeAll();
  }
}
