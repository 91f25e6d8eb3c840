import { SseInputError } from "@/lib/sse/frame";

/** Flask-SSE's default channel. */
export const DEFAULT_CHANNEL = "sse";

/** Channels one stream may carry by default (SSE_MAX_CHANNELS_PER_STREAM). */
export const DEFAULT_MAX_CHANNELS_PER_STREAM = 16;

/** Longest channel name accepted by default (SSE_MAX_CHANNEL_LENGTH). */
export const MAX_CHANNEL_LENGTH = 128;

// Letters, digits and `. _ : -`: safe in URLs, Redis keys and log lines, and free of the
// characters our composite ids and Redis Cluster hash tags use (`,`, `=`, `{`, `}`).
const CHANNEL_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** Whether `name` is a valid channel: 1 to `maxLength` (128) characters of `[A-Za-z0-9._:-]`. */
export function isValidChannel(name: string, maxLength = MAX_CHANNEL_LENGTH): boolean {
  return name.length > 0 && name.length <= maxLength && CHANNEL_PATTERN.test(name);
}

/**
 * Validates one channel name.
 * @throws SseInputError naming the rule that failed.
 */
export function assertChannel(name: string, maxLength = MAX_CHANNEL_LENGTH): string {
  if (!isValidChannel(name, maxLength)) {
    throw new SseInputError(
      "channel",
      `invalid channel ${JSON.stringify(name.slice(0, 40))}${name.length > 40 ? "…" : ""}: use 1 to ${maxLength} characters of A-Z a-z 0-9 . _ : -`,
    );
  }
  return name;
}

/**
 * Reads the channels of a stream request from `?channel=` (repeatable), defaulting to
 * `sse`. Duplicates collapse; order is kept.
 * @throws SseInputError for an invalid name or more than `maxChannels`.
 */
export function parseChannels(
  params: URLSearchParams,
  maxChannels: number,
  maxLength = MAX_CHANNEL_LENGTH,
): string[] {
  const names = params.getAll("channel");
  if (names.length === 0) return [DEFAULT_CHANNEL];
  const unique = [...new Set(names)];
  if (unique.length > maxChannels) {
    throw new SseInputError("channel", `too many channels: at most ${maxChannels} per stream`);
  }
  return unique.map((name) => assertChannel(name, maxLength));
}
