import { performance } from 'node:perf_hooks';
import type { NearCache } from './near-cache.js';
import { randomPart } from './tokens.js';

/** The part of a node-redis client the channel uses. */
export interface ChannelClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error' | 'end' | 'reconnecting' | 'ready', listener: () => void): unknown;
  subscribe(channels: string[], listener: (message: string, channel: string) => void): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
}

const ignore = (): undefined => undefined;

/**
 * Keeps a {@link NearCache} up to date through Redis pub/sub: one subscriber connection per cache
 * receives the namespace's invalidations (published by the invalidation script itself) and this
 * process's confirmations.
 *
 * A confirmation is a `PUBLISH` on a channel of this process's own, sent over the cache's connection
 * every `maxLagMs / 4`, carrying its send time. Redis writes pub/sub messages to a connection in the
 * order it ran the `PUBLISH`es, so when a confirmation sent at `t` arrives, every invalidation that
 * ran before it was published has arrived too, and was applied first (both listen on one connection):
 * the near cache then holds nothing older than what Redis held at `t`. Both channels are subscribed
 * in one `SUBSCRIBE` (node-redis resubscribes them in one as well), so a confirmation that arrives
 * proves the invalidation channel is subscribed too.
 */
export class InvalidationChannel {
  /** Bumped whenever the subscription is lost: a confirmation is counted only in the subscription it was sent in. */
  private epoch = 0;
  private readonly confirmations: string;
  private readonly timer: NodeJS.Timeout;
  private subscribed = false;

  constructor(
    private readonly publisher: ChannelClient,
    private readonly subscriber: ChannelClient,
    private readonly channel: string,
    private readonly near: NearCache,
    maxLagMs: number,
    /** Told when the near cache starts serving (`true`) and when it loses the channel (`false`). */
    private readonly onChange: (inStep: boolean) => void,
  ) {
    this.confirmations = `${channel}:c:${randomPart()}`;
    const down = (): void => this.lose();
    subscriber.on('error', down);
    subscriber.on('end', down);
    subscriber.on('reconnecting', down);
    // Subscribed once; node-redis subscribes again by itself after every reconnection.
    subscriber.on('ready', () => this.subscribe());
    subscriber.connect().catch(ignore);
    this.timer = setInterval(this.confirm, Math.max(1, maxLagMs / 4));
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.near.lost(); // closing is no outage: not told
    if (this.subscriber.isReady) await this.subscriber.close().catch(ignore);
    else this.subscriber.destroy();
  }

  private subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    this.subscriber.subscribe([this.channel, this.confirmations], this.received).catch(() => {
      this.subscribed = false; // the next `ready` tries again
    });
  }

  private readonly confirm = (): void => {
    if (this.publisher.isReady && this.subscriber.isReady) this.publisher.sendCommand(['PUBLISH', this.confirmations, `${this.epoch}:${performance.now()}`]).catch(ignore);
  };

  private readonly received = (message: string, channel: string): void => {
    if (channel === this.confirmations) {
      const colon = message.indexOf(':');
      if (Number(message.slice(0, colon)) === this.epoch && this.near.confirmed(Number(message.slice(colon + 1)))) this.onChange(true);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed) && parsed.every((part) => typeof part === 'string')) {
      const [token, ...keys] = parsed;
      this.near.applied(token, keys);
    } else {
      // Not what the invalidation script publishes: what it stands for is unknown, so nothing held is trusted.
      this.lose();
    }
  };

  private lose(): void {
    this.epoch++;
    if (this.near.lost()) this.onChange(false);
  }
}
