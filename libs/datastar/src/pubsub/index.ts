export {
  DatastarPubSub, MAX_TOPIC_LENGTH, assertTopic, toEventList,
} from './datastar-pubsub';
export { MemoryPubSub } from './memory-pubsub';
export {
  RedisPubSub, DEFAULT_REDIS_KEY_PREFIX, type RedisConnectionOptions,
} from './redis-pubsub';
