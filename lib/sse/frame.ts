/**
 * The only module that knows Server-Sent Events bytes: encoding events (after Flask-SSE's
 * `Message`, with its bugs fixed: `id` 0 and `retry` 0 are kept, a leading space in data
 * survives because we always write `data: ` with a space, and a trailing line break in data
 * round-trips), reading and replacing a frame's id, and the frames a stream sends on its
 * own (hello, position, reset, heartbeat, reconnect). The Lua publish script appends
 * `id: <id>\n\n` to a body from `encodeEventBody`, which is `closeFrame`. Pure and isomorphic.
 */
import { RECONNECT_COMMENT } from "@/lib/sse/events";

/** One event as a publisher describes it. `data` that is not a string is sent as JSON. */
export interface SseEvent {
  data: unknown;
  type?: string;
  id?: string | number;
  retry?: number;
}

/**
 * Thrown for input that cannot be encoded safely; routes turn it into a 400. Recognised by
 * its `code` (`invalid_<field>`), not `instanceof`, so it crosses module graphs.
 */
export class SseInputError extends Error {
  readonly field: string;
  readonly code: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "SseInputError";
    this.field = field;
    this.code = `invalid_${field}`;
  }
}

// CR, LF or NUL in `event:` or `id:` would end the field and let the value inject
// arbitrary fields (or whole events) into every subscriber's stream.
const FIELD_BREAKERS = /[\r\n\0]/;
const LINE_BREAK = /\r\n|\r|\n/;

/** Throws SseInputError unless `value` is safe inside a single-line SSE field. */
export function assertFieldValue(field: "type" | "id", value: string): void {
  if (FIELD_BREAKERS.test(value)) {
    throw new SseInputError(field, `${field} must not contain CR, LF or NUL`);
  }
}

/** Serialises data the way Flask-SSE does: strings as they are, anything else as JSON. */
export function serializeData(data: unknown): string {
  if (typeof data === "string") return data;
  if (data === undefined) throw new SseInputError("data", "data is required");
  const json = JSON.stringify(data);
  if (json === undefined) throw new SseInputError("data", "data must be JSON-serialisable");
  return json;
}

/** Throws SseInputError unless `retry` is a non-negative safe integer (milliseconds). */
export function assertRetry(retry: number): void {
  if (!Number.isSafeInteger(retry) || retry < 0) {
    throw new SseInputError("retry", "retry must be a non-negative integer (milliseconds)");
  }
}

/**
 * Encodes an event's fields but its id: `event:`, one `data:` line per line of data (split
 * on CRLF, LF and CR), `retry:`. `closeFrame` adds the id and the blank line; with history
 * on, the broker does that once it knows the event's place in history.
 * @throws SseInputError for a type with CR, LF or NUL, a bad retry, or data JSON cannot hold.
 */
export function encodeEventBody(event: Omit<SseEvent, "id">): string {
  const data = serializeData(event.data);
  let body = "";
  if (event.type !== undefined && event.type !== "") {
    assertFieldValue("type", event.type);
    body += `event: ${event.type}\n`;
  }
  for (const line of data.split(LINE_BREAK)) body += `data: ${line}\n`;
  if (event.retry !== undefined) {
    assertRetry(event.retry);
    body += `retry: ${event.retry}\n`;
  }
  return body;
}

/** Ends a frame body with its `id:` (when there is one) and the blank line. */
export function closeFrame(body: string, id?: string): string {
  return id === undefined ? `${body}\n` : `${body}id: ${id}\n\n`;
}

/**
 * Encodes an event as one SSE frame, `id:` last so a reader can find it from the end.
 * @throws SseInputError for a type or id with CR, LF or NUL, or a bad retry.
 */
export function encodeEvent(event: SseEvent): string {
  const body = encodeEventBody(event);
  if (event.id === undefined) return closeFrame(body);
  const id = String(event.id);
  assertFieldValue("id", id);
  return closeFrame(body, id);
}

/** Encodes an SSE comment (ignored by EventSource; used to open streams and keep them alive). */
export function encodeComment(text = ""): string {
  return `${text
    .split(LINE_BREAK)
    .map((line) => `: ${line}`)
    .join("\n")}\n\n`;
}

const encoder = new TextEncoder();

/** Encodes frame text as bytes (UTF-8), once; streams forward the bytes. */
export function frameBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * The first bytes of every stream: a comment (so proxies flush headers), the heartbeat
 * interval (`: heartbeat-ms=N`, so a client can tell a silently dead connection: no byte
 * for 2.5 intervals; absent when heartbeats are off) and the retry delay.
 */
export function helloFrame(retryMs: number, heartbeatMs = 0): Uint8Array {
  const heartbeat = heartbeatMs > 0 ? `: heartbeat-ms=${heartbeatMs}\n` : "";
  return encoder.encode(`: connected\n${heartbeat}retry: ${retryMs}\n\n`);
}

/** A keep-alive comment, for idle streams. */
export const HEARTBEAT_FRAME: Uint8Array = encoder.encode(encodeComment());

/** Longest `retry:` hint of a stream ended on purpose (ms): spread, not all at once. */
export const RECONNECT_JITTER_MS = 1000;

/**
 * Ends a stream on purpose: the browser reconnects after `retryMs` (EventSource) or its own
 * jitter (next-sse's client, which knows the comment), with its Last-Event-ID.
 */
export function reconnectFrame(retryMs: number): Uint8Array {
  return encoder.encode(`: ${RECONNECT_COMMENT}\nretry: ${Math.max(0, Math.floor(retryMs))}\n\n`);
}

/** A reconnect hint with per-stream jitter, so streams ended together do not return together. */
export function jitteredReconnectFrame(random: () => number = Math.random): Uint8Array {
  return reconnectFrame(random() * RECONNECT_JITTER_MS);
}

/**
 * The `position` event (reserved): no data, its id is the stream's position, so a reconnect
 * before the next event still resumes from here and page code can read where it stands.
 */
export function positionFrame(type: string, id: string): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: \nid: ${id}\n\n`);
}

const ID_PREFIX = [0x0a, 0x69, 0x64, 0x3a, 0x20]; // "\nid: "

/**
 * The id of a frame that ends with `id: <id>\n\n`, read from the end without decoding the
 * frame; undefined when it has none. Runs once per event per process.
 */
export function frameId(frame: Uint8Array): string | undefined {
  const end = frame.length - 2;
  if (end < 6 || frame[end] !== 0x0a || frame[end + 1] !== 0x0a) return undefined;
  let i = end - 1;
  while (i >= 4 && frame[i] !== 0x0a) i--;
  if (i < 4) return undefined;
  for (let k = 0; k < 5; k++) if (frame[i + k] !== ID_PREFIX[k]) return undefined;
  let id = "";
  for (let k = i + 5; k < end; k++) id += String.fromCharCode(frame[k]);
  return id;
}

/** Whether a message is a whole SSE frame: it ends with the blank line that ends an event. */
export function isCompleteFrame(frame: Uint8Array): boolean {
  const n = frame.length;
  return n >= 2 && frame[n - 1] === 0x0a && frame[n - 2] === 0x0a;
}

/**
 * A frame with its id line replaced by `id: <newId>` (a multi-channel stream's id), as two
 * chunks: the shared frame bytes are sliced, never copied or changed. `id` is the frame's
 * current id (see `frameId`), undefined when it has none.
 */
export function replaceFrameId(
  frame: Uint8Array,
  id: string | undefined,
  newId: string,
): [Uint8Array, Uint8Array] {
  const cut = id === undefined ? 1 : id.length + 6; // "\n" or "id: <id>\n\n"
  return [frame.subarray(0, frame.length - cut), encoder.encode(`id: ${newId}\n\n`)];
}

/** The frames in a chunk of whole frames (what a stream writes), each with its blank line. */
export function splitFrames(chunk: string): string[] {
  return chunk
    .split("\n\n")
    .filter((frame) => frame !== "")
    .map((frame) => `${frame}\n\n`);
}

/** An event read back from its frame: what a browser's EventSource would see. */
export interface ParsedFrame {
  type: string | undefined;
  data: string;
  id: string | undefined;
}

/**
 * Reads one frame back into its fields (the SSE parsing rules: one leading space after the
 * colon is dropped, `data:` lines join with LF). For the history API; streams never parse.
 */
export function parseFrame(frame: Uint8Array | string): ParsedFrame {
  const text = typeof frame === "string" ? frame : new TextDecoder().decode(frame);
  const data: string[] = [];
  let type: string | undefined;
  let id: string | undefined;
  for (const line of text.split(LINE_BREAK)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const field = line.slice(0, colon);
    const value = line.slice(colon + (line[colon + 1] === " " ? 2 : 1));
    if (field === "data") data.push(value);
    else if (field === "event") type = value;
    else if (field === "id") id = value;
  }
  return { type, data: data.join("\n"), id };
}
