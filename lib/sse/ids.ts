/**
 * Event ids with history on. A single-channel stream's ids are Redis Stream ids
 * (`<ms>-<seq>`), which locate the event in the channel's history. A stream of several
 * channels sends, after each event, an id naming the channel it came from and its position
 * in every channel: `CHANNEL/ch1=ID,ch2=ID`. Clients treat both as opaque and echo them in
 * Last-Event-ID. Pure and isomorphic.
 */

const STREAM_ID = /^\d{1,16}-\d{1,16}$/;

/** The position before every event of a channel. */
export const ORIGIN_ID = "0-0";

/** Longest Last-Event-ID accepted (16 channels of 128 characters and their ids fit). */
export const MAX_LAST_EVENT_ID_LENGTH = 4096;

/** Whether `id` is a history position (`<ms>-<seq>`). */
export function isStreamId(id: string): boolean {
  return STREAM_ID.test(id);
}

/** Orders two stream ids: negative, zero or positive, like a sort comparator. */
export function compareStreamIds(a: string, b: string): number {
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  // Same shape (the usual case on the live path): plain string order is numeric order.
  if (dashA === dashB && a.length === b.length) return a < b ? -1 : a > b ? 1 : 0;
  const msA = Number(a.slice(0, dashA));
  const msB = Number(b.slice(0, dashB));
  if (msA !== msB) return msA < msB ? -1 : 1;
  const seqA = Number(a.slice(dashA + 1));
  const seqB = Number(b.slice(dashB + 1));
  return seqA === seqB ? 0 : seqA < seqB ? -1 : 1;
}

/**
 * Moves a channel's position forward to `id` (positions only grow: an older id is ignored).
 * A `Map`: channel names are client input.
 */
export function advancePosition(positions: Map<string, string>, channel: string, id: string): void {
  const previous = positions.get(channel);
  if (previous === undefined || compareStreamIds(id, previous) > 0) positions.set(channel, id);
}

/**
 * A stream's position per channel; a channel without one starts at the live end. A Map, not
 * an object: channel names are client input, and `__proto__` or `constructor` are names too.
 */
export type Positions = ReadonlyMap<string, string>;

/** Encodes positions for the `id:` of a multi-channel stream, naming the event's channel. */
export function encodeMultiChannelId(
  channel: string,
  channels: readonly string[],
  positions: Positions,
): string {
  let out = `${channel}/`;
  let first = true;
  for (const name of channels) {
    const position = positions.get(name);
    if (position === undefined) continue;
    out += `${first ? "" : ","}${name}=${position}`;
    first = false;
  }
  return out;
}

/** The channel a multi-channel id names, or undefined for a plain id. */
export function channelOfId(id: string): string | undefined {
  const slash = id.indexOf("/");
  return slash > 0 ? id.slice(0, slash) : undefined;
}

/**
 * Reads a Last-Event-ID back into positions for the given channels. A plain stream id
 * applies to every channel. Returns undefined for an id that is not ours (too long,
 * malformed, or naming a position that is not a stream id): the caller reports a gap.
 */
export function decodeLastEventId(
  lastEventId: string,
  channels: readonly string[],
): Positions | undefined {
  if (lastEventId.length > MAX_LAST_EVENT_ID_LENGTH) return undefined;
  if (isStreamId(lastEventId)) {
    return new Map(channels.map((channel) => [channel, lastEventId]));
  }
  const slash = lastEventId.indexOf("/");
  if (slash < 0) return undefined;
  const positions = new Map<string, string>();
  const body = lastEventId.slice(slash + 1);
  if (body === "") return positions;
  for (const pair of body.split(",")) {
    const eq = pair.indexOf("=");
    const id = pair.slice(eq + 1);
    if (eq <= 0 || !isStreamId(id)) return undefined;
    const name = pair.slice(0, eq);
    if (channels.includes(name)) positions.set(name, id);
  }
  return positions;
}

/**
 * When an event was published, from its id (Redis Stream ids start with the publish time
 * in ms): the id itself on a one-channel stream, the event channel's position in a
 * multi-channel id. Undefined for ids that are not history positions.
 */
export function publishedAtMs(id: string): number | undefined {
  const channel = channelOfId(id);
  let position: string | undefined = id;
  if (channel !== undefined) {
    const pair = id
      .slice(channel.length + 1)
      .split(",")
      .find((p) => p.startsWith(`${channel}=`));
    position = pair?.slice(channel.length + 1);
  }
  if (position === undefined || !isStreamId(position)) return undefined;
  return Number(position.slice(0, position.indexOf("-")));
}
