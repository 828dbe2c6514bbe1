import { Observable } from 'rxjs';
import type { MessageEventLike } from '../protocol/encoder';
import type { SseWriter } from '../protocol/sse-writer';
import type { LocalTopics, TopicWriterHooks } from './local-topics';
import { resumeOf, type TopicSubscribeOptions } from './topic-resume';

/**
 * What `pubsub.subscribe(topic)` returns: an ordinary Observable to users (merge it, pipe it).
 * Returned as is from a handler, dispatch recognises it and attaches the stream's writer straight
 * to the topic instead of subscribing (one encoded buffer for every stream, bench: fanout).
 */
export class TopicObservable extends Observable<MessageEventLike> {
  constructor(
    private readonly topics: LocalTopics,
    readonly topic: string,
    private readonly options: TopicSubscribeOptions = {},
  ) {
    super((subscriber) => topics.join(topic, subscriber, resumeOf(options)));
  }

  /** @internal Writes the topic's publications to `writer` (which resumes after `lastEventId`) until it closes. */
  attach(writer: SseWriter, hooks: TopicWriterHooks, lastEventId: string | undefined): void {
    this.topics.attach(this.topic, writer, hooks, resumeOf(this.options, { lastEventId, writer }));
  }
}
