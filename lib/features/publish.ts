import "server-only";
import { getBroker, type PublishResult } from "@/lib/broker";
import { getCatalog, historyBounds } from "@/lib/catalog";
import type { App } from "@/lib/catalog/app";
import type { EventDataOf, EventTypeOf } from "@/lib/catalog/typing";
import { checkEvent } from "@/lib/catalog/validate";
import { getConfig } from "@/lib/config";
import { HttpError } from "@/lib/http";
import { requestCounters } from "@/lib/ops/counters";
import { assertChannel, DEFAULT_CHANNEL } from "@/lib/sse/channel";
import { RESERVED_EVENT_TYPES } from "@/lib/sse/events";
import { assertFieldValue, encodeEventBody, SseInputError } from "@/lib/sse/frame";
import { isStreamId } from "@/lib/sse/ids";
import { parsePublishRequest, requestChannels } from "@/lib/sse/publish-request";

/** Options of `publish`, as Flask-SSE's `sse.publish(data, type, id, retry, channel)`. */
export interface PublishOptions<C extends string = string, T extends string = string> {
  /**
   * Event type (`event:`); the browser's default is `message`. A channel that declares its
   * types (`lib/channels.ts`) takes only those, with the data their schema accepts.
   */
  type?: T;
  /**
   * With history off: the event's `id:`, as in Flask-SSE. With history on (the default),
   * an idempotency key: publishing the same id on the same channel again within the
   * history TTL delivers nothing and returns the first event's wire id. The wire `id:` is
   * then always the event's place in history, which is what resume needs.
   */
  id?: string | number;
  /** Reconnect delay for the browser, in ms. */
  retry?: number;
  /** Channel to publish on (default `sse`). */
  channel?: C;
}

/**
 * Publishes one event and says what happened: its wire id, the receiving processes, and
 * whether it was a duplicate. The event is encoded once, here; streams forward the bytes.
 * @throws SseInputError for an invalid channel, type, id, retry or data.
 * @throws BrokerUnavailableError when Redis does not answer within SSE_REDIS_TIMEOUT_MS.
 */
export async function publishEvent<
  C extends string = typeof DEFAULT_CHANNEL,
  T extends EventTypeOf<App, C> = EventTypeOf<App, C>,
>(data: EventDataOf<App, C, T>, options: PublishOptions<C, T> = {}): Promise<PublishResult> {
  const config = getConfig();
  const channel = assertChannel(options.channel ?? DEFAULT_CHANNEL, config.maxChannelLength);
  if (options.type !== undefined && RESERVED_EVENT_TYPES.has(options.type)) {
    throw new SseInputError("type", `type: ${options.type} is reserved for the server`);
  }
  const rules = getCatalog().rulesOf(channel);
  await checkEvent(rules, channel, options.type, data);
  const body = encodeEventBody({ data, type: options.type, retry: options.retry });
  const id = options.id === undefined ? undefined : String(options.id);
  if (id !== undefined) assertFieldValue("id", id);
  const retention = historyBounds(rules.history, {
    maxLength: config.historyMaxLength,
    ttlSeconds: config.historyTtlSeconds,
    keepLast: config.historyKeepLast,
    idleTtlSeconds: config.historyIdleTtlSeconds,
  });
  const result = await getBroker().publish(channel, { body, id, retention });
  if (!result.duplicate) requestCounters().published++;
  return result;
}

/**
 * Publishes one event to every stream subscribed to its channel, in every process: the
 * signature and meaning of Flask-SSE's `sse.publish`.
 * @returns the number of server processes that received it (Redis PUBLISH semantics).
 * @throws SseInputError for an invalid channel, type, id, retry or data.
 * @throws BrokerUnavailableError when Redis does not answer within SSE_REDIS_TIMEOUT_MS.
 */
export async function publish<
  C extends string = typeof DEFAULT_CHANNEL,
  T extends EventTypeOf<App, C> = EventTypeOf<App, C>,
>(data: EventDataOf<App, C, T>, options: PublishOptions<C, T> = {}): Promise<number> {
  return (await publishEvent(data, options)).receivers;
}

/** What `POST /api/publish` answers: one result per channel, and the receivers in total. */
export interface PublishApiResult {
  events: Array<PublishResult & { channel: string }>;
  receivers: number;
}

/**
 * Validates a publish request (`parsePublishRequest` with the configured limits), checks
 * its channels with `allow`, and publishes it to each of them.
 * @throws SseInputError naming the field for an invalid body (400).
 * @throws BrokerUnavailableError when Redis does not answer in time.
 */
export async function publishRequest(
  body: unknown,
  /** Refuses the request when it names a channel the caller may not publish to. */
  allow: (channels: readonly string[]) => void = () => {},
  /** `api`: the publish API, which channels declared `publish: "server"` refuse (403). */
  via: "api" | "server" = "server",
): Promise<PublishApiResult> {
  const request = parsePublishRequest(body, getConfig());
  allow(requestChannels(request));
  if (via === "api") {
    const catalog = getCatalog();
    for (const channel of requestChannels(request)) {
      if (catalog.rulesOf(channel).publish === "server") {
        throw new HttpError(
          403,
          "publish_forbidden",
          `channel ${channel} takes publishes from the app's server code only`,
        );
      }
    }
  }
  const { data, type, id, retry } = request;
  // Every channel's declaration first: a request is published to all of its channels or none.
  for (const channel of requestChannels(request)) {
    await checkEvent(getCatalog().rulesOf(channel), channel, type, data);
  }
  const events = await Promise.all(
    requestChannels(request).map(async (channel) => ({
      channel,
      ...(await publishEvent(data, { channel, type, id, retry })),
    })),
  );
  return { events, receivers: events.reduce((sum, e) => sum + e.receivers, 0) };
}

/**
 * Deletes one event from a channel's history, for moderation: history reads, rewinds and
 * resuming clients skip it from now on (streams that had it live keep it).
 * @returns false when the id is not (or no longer) in the channel's history.
 * @throws SseInputError for an invalid channel or id.
 * @throws BrokerUnavailableError when Redis does not answer in time.
 */
export async function deleteEvent(channel: string, id: string): Promise<boolean> {
  assertChannel(channel, getConfig().maxChannelLength);
  if (!isStreamId(id)) throw new SseInputError("id", "id must be an event id like 1700000000000-0");
  return (await getBroker().history?.deleteEvent(channel, id)) ?? false;
}
