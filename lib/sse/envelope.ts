import { RESERVED_EVENT_TYPES } from "@/lib/sse/events";
import { encodeEvent, SseInputError } from "@/lib/sse/frame";

const OPEN_BRACE = 0x7b;

/**
 * Whether a Redis message is a Flask-SSE JSON envelope (`{"data": ..., "type": ...}`)
 * rather than a frame next-sse encoded already (frames start with `event:`, `data:` or `:`).
 */
export function isEnvelope(message: Uint8Array): boolean {
  return message[0] === OPEN_BRACE;
}

/**
 * Encodes a Flask-SSE message envelope, as `flask_sse.sse.publish` writes it to Redis, into
 * an SSE frame. Lets Python services (or `redis-cli PUBLISH`) publish to next-sse streams.
 * @throws SseInputError when the JSON is invalid or the fields are unsafe.
 */
export function encodeEnvelope(json: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new SseInputError("data", "envelope is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || !("data" in parsed)) {
    throw new SseInputError("data", 'envelope must be an object with a "data" field');
  }
  const { data, type, id, retry } = parsed as Record<string, unknown>;
  if (type !== undefined && type !== null && typeof type !== "string") {
    throw new SseInputError("type", "type must be a string");
  }
  if (typeof type === "string" && RESERVED_EVENT_TYPES.has(type)) {
    throw new SseInputError("type", `type ${type} is reserved for the server`);
  }
  if (id !== undefined && id !== null && typeof id !== "string" && typeof id !== "number") {
    throw new SseInputError("id", "id must be a string or a number");
  }
  if (retry !== undefined && retry !== null && typeof retry !== "number") {
    throw new SseInputError("retry", "retry must be a number");
  }
  return encodeEvent({
    data,
    type: type ?? undefined,
    id: id ?? undefined,
    retry: retry ?? undefined,
  });
}
