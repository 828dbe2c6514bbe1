import { AsyncLocalStorage } from 'node:async_hooks';
import type { MessageEventLike } from '../protocol/encoder';
import type { SseWriter } from '../protocol/sse-writer';

/** Options of `pubsub.subscribe(topic, options)`. */
export interface TopicSubscribeOptions {
  /**
   * Give the events `id:`s and replay what a reconnecting stream missed (default true). Subscribe
   * other topics you merge into the same stream with `false`: a stream resumes from one id.
   */
  replay?: boolean;
  /**
   * Where to resume from. Default: the `Last-Event-ID` of the stream this subscription feeds (a
   * handler's returned source is subscribed with it).
   */
  lastEventId?: string;
  /**
   * The stream came back with a `Last-Event-ID` the backlog no longer reaches (or one that is not
   * this topic's): return what the page needs instead, e.g. the whole list re-rendered; it is
   * emitted (through your pipe, like the topic's events) before the live events. Default: nothing, the stream goes on live as a fresh one does (the
   * handler ran again anyway, as it does for every stream).
   */
  onResync?: () => MessageEventLike | readonly MessageEventLike[] | void;
}

/** How a topic member joins: with ids or not, and from where it resumes. */
export interface TopicResume {
  readonly replayable: boolean;
  readonly lastEventId?: string;
  readonly onResync?: TopicSubscribeOptions['onResync'];
  /** The stream it feeds, when it feeds one: a fresh one gets the topic's position as its first `id:`. */
  readonly writer?: SseWriter;
}

/** The stream a subscription feeds: its writer, and the `Last-Event-ID` it was reopened with. */
export interface StreamResume {
  readonly lastEventId?: string;
  readonly writer?: SseWriter;
}

/**
 * Set by dispatch while it subscribes to a stream's source, so every topic subscribed meanwhile
 * (returned as is, or merged) knows it feeds a stream, that stream's writer and `Last-Event-ID`.
 */
export const streamResume = new AsyncLocalStorage<StreamResume>();

/** How a subscription made now joins its topic. */
export function resumeOf(options: TopicSubscribeOptions, stream = streamResume.getStore()): TopicResume {
  const lastEventId = options.lastEventId ?? stream?.lastEventId;
  return {
    replayable: options.replay !== false && (stream !== undefined || options.lastEventId !== undefined),
    lastEventId,
    onResync: options.onResync,
    writer: stream?.writer,
  };
}
