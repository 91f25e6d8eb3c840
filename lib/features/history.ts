import "server-only";
import { getBroker } from "@/lib/broker";
import type { AppEvent } from "@/lib/catalog/app";
import { getConfig } from "@/lib/config";
import type { HistoryEntry } from "@/lib/history/types";
import { assertChannel } from "@/lib/sse/channel";
import { parseFrame, SseInputError } from "@/lib/sse/frame";
import { isStreamId, publishedAtMs } from "@/lib/sse/ids";

/** Events one history page holds at most (`limit` is capped here). */
export const MAX_HISTORY_PAGE = 100;

/**
 * One event of the history API: its id, its `event:` type (`message` when it had none, as
 * EventSource names it), its data (parsed JSON when it is JSON, else the text, as the hook
 * hands it over), typed by the channel's declaration (`lib/channels.ts`), and when it was
 * published (ISO 8601, from its id).
 */
export type HistoryEvent<C extends string = string> = AppEvent<C> & { publishedAt: string };

/** What `GET /api/channels/NAME/history` answers. */
export interface HistoryPage<C extends string = string> {
  channel: string;
  events: Array<HistoryEvent<C>>;
  /** The query string of the next page (older for `newest`, newer for `oldest`), or null. */
  next: string | null;
}

function decodeData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Which page of history `readHistory` reads. */
export interface HistoryQuery {
  /** Events in the page, 1 to 100 (default 50). */
  limit?: number;
  /** Only events before this id (exclusive). */
  before?: string;
  /** Only events after this id (exclusive). */
  after?: string;
  /** `newest` first (the default) or `oldest` first. */
  order?: "newest" | "oldest";
}

/**
 * Reads one page of a channel's history, for server code and the history API: events with
 * their type, data and publish time, and `next`, the query of the following page.
 * @throws SseInputError naming a bad option (400 in the API).
 * @throws BrokerUnavailableError when Redis does not answer in time (503).
 */
export async function readHistory<C extends string>(
  channel: C,
  options: HistoryQuery = {},
): Promise<HistoryPage<C>> {
  const { limit = 50, before, after, order = "newest" } = options;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
    throw new SseInputError("limit", `limit must be a whole number from 1 to ${MAX_HISTORY_PAGE}`);
  }
  if (order !== "newest" && order !== "oldest") {
    throw new SseInputError("order", 'order must be "newest" or "oldest"');
  }
  for (const [name, id] of [
    ["before", before],
    ["after", after],
  ] as const) {
    if (id !== undefined && !isStreamId(id)) {
      throw new SseInputError(name, `${name} must be an event id like 1700000000000-0`);
    }
  }
  const newestFirst = order === "newest";
  // With history off nothing is kept: every page is empty.
  const entries =
    (await getBroker().history?.readPage(channel, { limit, before, after, newestFirst })) ?? [];
  const events = entries.map((entry) => toHistoryEvent<C>(entry));
  let next: string | null = null;
  const last = events.at(-1);
  if (events.length === limit && last !== undefined) {
    const cursor = new URLSearchParams({ limit: String(limit), order });
    if (newestFirst) {
      cursor.set("before", last.id);
      if (after !== undefined) cursor.set("after", after);
    } else {
      cursor.set("after", last.id);
      if (before !== undefined) cursor.set("before", before);
    }
    next = `?${cursor}`;
  }
  return { channel, events, next };
}

/**
 * The history API's query (`limit`, `before`, `after`, `order`) as `readHistory` options.
 * @throws SseInputError naming the bad parameter (400).
 */
export function parseHistoryQuery(params: URLSearchParams): HistoryQuery {
  const limitText = params.get("limit");
  if (limitText !== null && !/^\d+$/.test(limitText)) {
    throw new SseInputError("limit", `limit must be a whole number from 1 to ${MAX_HISTORY_PAGE}`);
  }
  const order = params.get("order") ?? undefined;
  if (order !== undefined && order !== "newest" && order !== "oldest") {
    throw new SseInputError("order", 'order must be "newest" or "oldest"');
  }
  const optional = (name: string) => {
    const value = params.get(name);
    return value === null || value === "" ? undefined : value;
  };
  return {
    limit: limitText === null ? undefined : Number(limitText),
    before: optional("before"),
    after: optional("after"),
    order,
  };
}

/** A stored entry as the history API shows it. */
function toHistoryEvent<C extends string>({ id, frame }: HistoryEntry): HistoryEvent<C> {
  const { type, data } = parseFrame(frame);
  // The declaration checked it when it was published: it is the channel's event.
  return {
    id,
    type: type ?? "message",
    data: decodeData(data),
    publishedAt: new Date(publishedAtMs(id) ?? 0).toISOString(),
  } as HistoryEvent<C>;
}

/** What `readLatest` answers: a page's first render, and where its stream starts. */
export interface LatestEvents<C extends string = string> {
  channel: C;
  /** The newest events, oldest first. */
  events: Array<HistoryEvent<C>>;
  /**
   * The channel's position after them: give it to `useEventSource`'s `after`, and the page
   * goes live from exactly there (nothing missed, nothing twice). Null with history off.
   */
  position: string | null;
}

/**
 * The newest `count` events of a channel (1 to 100) and the position after them: what a
 * Server Component renders before the page goes live from that position.
 * @throws SseInputError for a bad channel or count (400).
 * @throws BrokerUnavailableError when Redis does not answer in time (503).
 */
export async function readLatest<C extends string>(
  channel: C,
  count: number,
): Promise<LatestEvents<C>> {
  assertChannel(channel, getConfig().maxChannelLength);
  if (!Number.isInteger(count) || count < 1 || count > MAX_HISTORY_PAGE) {
    throw new SseInputError("count", `count must be a whole number from 1 to ${MAX_HISTORY_PAGE}`);
  }
  const history = getBroker().history;
  if (history === undefined) return { channel, events: [], position: null };
  const latest = await history.readLatest(channel, count);
  return {
    channel,
    events: latest.entries.map((entry) => toHistoryEvent<C>(entry)),
    position: latest.lastId,
  };
}
