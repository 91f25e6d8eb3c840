import "server-only";
import { getBroker } from "@/lib/server/broker";
import { parseFrame, SseInputError } from "@/lib/sse/frame";
import { isStreamId, publishedAtMs } from "@/lib/sse/ids";

/** Events one history page holds at most (`limit` is capped here). */
export const MAX_HISTORY_PAGE = 100;

/** One event of the history API. */
export interface HistoryEvent {
  id: string;
  /** The `event:` type; `message` when it had none, as EventSource names it. */
  type: string;
  /** The data: parsed JSON when it is JSON, else the text, as the hook hands it over. */
  data: unknown;
  /** When it was published (ISO 8601), from its id. */
  publishedAt: string;
}

/** What `GET /api/channels/NAME/history` answers. */
export interface HistoryPage {
  channel: string;
  events: HistoryEvent[];
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

function streamIdParam(params: URLSearchParams, name: "before" | "after"): string | undefined {
  const value = params.get(name);
  if (value === null || value === "") return undefined;
  if (!isStreamId(value)) {
    throw new SseInputError(name, `${name} must be an event id like 1700000000000-0`);
  }
  return value;
}

/**
 * Reads one page of a channel's history for the history API: `limit` (1 to 100, default 50),
 * `before`/`after` (event ids, exclusive), `order` (`newest` first, the default, or `oldest`).
 * @throws SseInputError naming the bad parameter (400).
 * @throws BrokerUnavailableError when Redis does not answer in time (503).
 */
export async function readHistoryPage(
  channel: string,
  params: URLSearchParams,
): Promise<HistoryPage> {
  const limitText = params.get("limit") ?? "50";
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_HISTORY_PAGE) {
    throw new SseInputError("limit", `limit must be a whole number from 1 to ${MAX_HISTORY_PAGE}`);
  }
  const order = params.get("order") ?? "newest";
  if (order !== "newest" && order !== "oldest") {
    throw new SseInputError("order", 'order must be "newest" or "oldest"');
  }
  const before = streamIdParam(params, "before");
  const after = streamIdParam(params, "after");
  const newestFirst = order === "newest";
  const entries = await getBroker().readPage(channel, { limit, before, after, newestFirst });
  const events = entries.map(({ id, frame }) => {
    const { type, data } = parseFrame(frame);
    const at = publishedAtMs(id);
    return {
      id,
      type: type ?? "message",
      data: decodeData(data),
      publishedAt: new Date(at ?? 0).toISOString(),
    };
  });
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
