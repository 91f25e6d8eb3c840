/**
 * Server-Sent Events wire encoding, after Flask-SSE's `Message`, with its bugs fixed:
 * `id` 0 and `retry` 0 are kept, a leading space in data survives (we always write
 * `data: ` with a space, which the parser strips), and a trailing line break in data
 * round-trips. Pure and isomorphic.
 */

/** One event as a publisher describes it. `data` that is not a string is sent as JSON. */
export interface SseEvent {
  data: unknown;
  type?: string;
  id?: string | number;
  retry?: number;
}

/** Thrown for input that cannot be encoded safely; routes turn it into a 400. */
export class SseInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "SseInputError";
    this.field = field;
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
