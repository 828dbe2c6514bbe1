import { Observable } from 'rxjs';
import type { MessageEventLike } from '../protocol/encoder';
import type { SseWriter } from '../protocol/sse-writer';
import type { LocalTopics, TopicWriterHooks } from './local-topics';

/**
 * What `pubsub.subscribe(topic)` returns: an ordinary Observable to users (merge it, pipe it).
 * Returned as is from a handler, dispatch recognises it and attaches the stream's writer straight
 * to the topic instead of subscribing (one encoded buffer for every stream, bench: fanout).
 */
export class TopicObservable extends Observable<MessageEventLike> {
  constructor(
    private readonly topics: LocalTopics,
    readonly topic: string,
  ) {
    super((subscriber) => topics.join(topic, subscriber));
  }

  /** @internal Writes the topic's publications to `writer` until it closes. */
  attach(writer: SseWriter, hooks: TopicWriterHooks): void {
    this.topics.attach(this.topic, writer, hooks);
  }
}
