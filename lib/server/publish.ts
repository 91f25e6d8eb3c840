import "server-only";
import { getBroker } from "@/lib/server/broker";
import { assertChannel, DEFAULT_CHANNEL } from "@/lib/sse/channel";
import { encodeEvent } from "@/lib/sse/encode";

/** Options of `publish`, as Flask-SSE's `sse.publish(data, type, id, retry, channel)`. */
export interface PublishOptions {
  /** Event type (`event:`); the browser's default is `message`. */
  type?: string;
  /** Event id (`id:`), which the browser echoes as Last-Event-ID. */
  id?: string | number;
  /** Reconnect delay for the browser, in ms. */
  retry?: number;
  /** Channel to publish on (default `sse`). */
  channel?: string;
}

/**
 * Publishes one event to every stream subscribed to its channel, in every process.
 * The event is encoded once, here; streams forward the bytes.
 * @returns the number of server processes that received it (Redis PUBLISH semantics).
 * @throws SseInputError for an invalid channel, type, id, retry or data.
 * @throws BrokerUnavailableError when Redis does not answer within SSE_REDIS_TIMEOUT_MS.
 */
export async function publish(data: unknown, options: PublishOptions = {}): Promise<number> {
  const channel = assertChannel(options.channel ?? DEFAULT_CHANNEL);
  const frame = encodeEvent({ data, type: options.type, id: options.id, retry: options.retry });
  return getBroker().publish(channel, Buffer.from(frame));
}
