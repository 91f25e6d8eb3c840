import { z } from "zod";
import { DEFAULT_CHANNEL, isValidChannel, MAX_CHANNEL_LENGTH } from "@/lib/sse/channel";
import { RESERVED_EVENT_TYPES } from "@/lib/sse/events";
import { SseInputError } from "@/lib/sse/frame";

/** Deepest nesting of `data` accepted: deeper JSON is refused before it is walked. */
export const MAX_DATA_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `max` (checked without recursion). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== "object" || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

// The same rules `encodeEvent` enforces, checked up front so the API can name the field.
const SINGLE_LINE = /^[^\r\n\0]*$/;
const FIELD_RULE = "must not contain CR, LF or NUL";

const channelName = (maxLength: number) =>
  z
    .string()
    .refine(
      (name) => isValidChannel(name, maxLength),
      `must be 1 to ${maxLength} characters of A-Z a-z 0-9 . _ : -`,
    );

/** Body of `POST /api/publish`. Isomorphic, so clients can validate before sending. */
export function publishRequestSchema(maxChannelLength = MAX_CHANNEL_LENGTH) {
  return z
    .strictObject({
      channel: channelName(maxChannelLength).optional(),
      channels: z.array(channelName(maxChannelLength)).min(1).max(64).optional(),
      data: z
        .unknown()
        .refine((value) => value !== undefined, "is required")
        .pipe(z.json()),
      type: z
        .string()
        .max(256)
        .regex(SINGLE_LINE, FIELD_RULE)
        .refine((type) => !RESERVED_EVENT_TYPES.has(type), {
          message: `is reserved (${[...RESERVED_EVENT_TYPES].join(", ")} are sent by the server itself)`,
        })
        .optional(),
      id: z.union([z.string().min(1).max(256).regex(SINGLE_LINE, FIELD_RULE), z.int()]).optional(),
      retry: z.int().min(0).max(86_400_000).optional(),
    })
    .refine((body) => !(body.channel !== undefined && body.channels !== undefined), {
      message: "give channel or channels, not both",
      path: ["channels"],
    });
}

/** The schema with the default channel rules. */
export const PUBLISH_REQUEST_SCHEMA = publishRequestSchema();

export type PublishRequest = z.infer<typeof PUBLISH_REQUEST_SCHEMA>;

/** The channels a publish request names (default `sse`), duplicates removed. */
export function requestChannels(body: PublishRequest): string[] {
  return [...new Set(body.channels ?? [body.channel ?? DEFAULT_CHANNEL])];
}

/** One readable sentence for the first problem zod found, naming the field. */
export function describeIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  const field = issue.path.length > 0 ? issue.path.join(".") : "body";
  const message =
    issue.code === "unrecognized_keys"
      ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
      : `${field}: ${issue.message}`;
  return { field, message };
}

/** The limits a publish request is checked against (from the server's config). */
export interface PublishLimits {
  /** Longest channel name (SSE_MAX_CHANNEL_LENGTH). */
  maxChannelLength: number;
  /** Largest event, as JSON, in bytes (SSE_PUBLISH_MAX_BYTES). */
  publishMaxBytes: number;
}

/**
 * Validates a publish request once, for every way in (the publish API, Server Actions):
 * the schema with the configured channel rule, then the size of the event as JSON.
 * @throws SseInputError naming the field (`invalid_<field>`, a 400).
 */
export function parsePublishRequest(body: unknown, limits: PublishLimits): PublishRequest {
  // Before the schema, which walks `data` recursively: 5000 levels would overflow its stack.
  if (nestsDeeperThan(body, MAX_DATA_DEPTH + 1)) {
    throw new SseInputError("data", `data: nested deeper than ${MAX_DATA_DEPTH} levels`);
  }
  const parsed = publishRequestSchema(limits.maxChannelLength).safeParse(body);
  if (!parsed.success) {
    const { field, message } = describeIssue(parsed.error);
    throw new SseInputError(field.split(".")[0], message);
  }
  const size = new TextEncoder().encode(JSON.stringify(parsed.data)).byteLength;
  if (size > limits.publishMaxBytes) {
    throw new SseInputError(
      "data",
      `data: the event is ${size} bytes as JSON, over the limit of ${limits.publishMaxBytes}`,
    );
  }
  return parsed.data;
}
