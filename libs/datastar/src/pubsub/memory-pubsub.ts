import { Injectable, Optional } from '@nestjs/common';
import type { MessageEventLike } from '../protocol/encoder';
import { DatastarPubSub, toEventList } from './datastar-pubsub';
import { MemoryBacklog, type ReplayBatch, type ResolvedBacklogOptions } from './topic-backlog';
import type { TopicPosition } from './topic-ids';
import { DEFAULT_BACKLOG } from '../datastar.constants';

/**
 * The embedded default: one process, no broker. Publishing calls every subscriber synchronously
 * with the same event objects (nothing is copied or serialised), before `publish()` returns.
 * Each topic keeps a bounded backlog in memory for streams that come back with `Last-Event-ID`
 * (lost with the process: a stream that resumes on a restarted one is resynced).
 */
@Injectable()
export class MemoryPubSub extends DatastarPubSub {
  private readonly log: MemoryBacklog | undefined;

  constructor(@Optional() backlog: ResolvedBacklogOptions | false = DEFAULT_BACKLOG) {
    super(backlog);
    this.log = backlog ? new MemoryBacklog(backlog) : undefined;
  }

  override async publish(
    topic: string,
    events: MessageEventLike | readonly MessageEventLike[],
  ): Promise<void> {
    const list = toEventList(topic, events);
    // After close() there is nobody left to deliver to: a late publish is a no-op, not an error.
    if (this.closed || list.length === 0) return;
    this.deliver(topic, list, this.log?.append(topic, list));
  }

  override async close(): Promise<void> {
    this.completeAll();
  }

  /** Publications and encoded bytes the backlog keeps for `topic` (a gauge). */
  backlogStats(topic: string): { events: number; bytes: number } {
    return this.log?.stats(topic) ?? { events: 0, bytes: 0 };
  }

  protected override replay(topic: string, from: TopicPosition): ReplayBatch | undefined {
    return this.log?.since(topic, from);
  }

  protected override position(topic: string): TopicPosition | undefined {
    return this.log?.position(topic);
  }
}
