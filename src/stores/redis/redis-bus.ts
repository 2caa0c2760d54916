/**
 * @module stores/redis/redis-bus
 * The bus over Redis pub/sub: one channel per topic, JSON payloads. At most once: what is
 * published while an instance's subscriber is disconnected never reaches it (`hearing` says so
 * meanwhile, and `onReconnect` tells the subscribers that repair such losses). Redis is trusted: anyone who can publish on these
 * channels can cancel calls and end sessions; scope the server's Redis user to its key prefix.
 */
import type { Bus, Topic, Unsubscribe } from '../../core/bus.ts'
import type { RedisLink } from './redis-link.ts'

export class RedisBus implements Bus {
  constructor(private readonly link: RedisLink) {}

  async publish<T>(topic: Topic<T>, payload: T): Promise<void> {
    await this.link.publish(this.link.keys.topic(topic.name), JSON.stringify(payload))
  }

  subscribe<T>(topic: Topic<T>, handler: (payload: T) => void): Promise<Unsubscribe> {
    return this.link.listen(this.link.keys.topic(topic.name), (message) => handler(JSON.parse(message) as T))
  }

  onReconnect(listener: () => void): Unsubscribe {
    return this.link.onReconnect(listener)
  }

  get hearing(): boolean {
    return this.link.subscriberDownForMs === 0
  }

  async close(): Promise<void> {
    // The link is shared by every Redis store: the composition root closes it once.
  }
}
