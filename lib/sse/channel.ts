import { SseInputError } from "@/lib/sse/encode";

/** Flask-SSE's default channel. */
export const DEFAULT_CHANNEL = "sse";

/** Longest channel name accepted (default 128 characters). */
export const MAX_CHANNEL_LENGTH = 128;

// Letters, digits and `. _ : -`: safe in URLs, Redis keys and log lines, and free of the
// characters our composite ids and Redis Cluster hash tags use (`,`, `=`, `{`, `}`).
const CHANNEL_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** Whether `name` is a valid channel: 1 to 128 characters of `[A-Za-z0-9._:-]`. */
export function isValidChannel(name: string): boolean {
  return name.length > 0 && name.length <= MAX_CHANNEL_LENGTH && CHANNEL_PATTERN.test(name);
}

/**
 * Validates one channel name.
 * @throws SseInputError naming the rule that failed.
 */
export function assertChannel(name: string): string {
  if (!isValidChannel(name)) {
    throw new SseInputError(
      "channel",
      `invalid channel ${JSON.stringify(name.slice(0, MAX_CHANNEL_LENGTH + 1))}: use 1 to ${MAX_CHANNEL_LENGTH} characters of A-Z a-z 0-9 . _ : -`,
    );
  }
  return name;
}

/**
 * Reads the channels of a stream request from `?channel=` (repeatable), defaulting to
 * `sse`. Duplicates collapse; order is kept.
 * @throws SseInputError for an invalid name or more than `maxChannels`.
 */
export function parseChannels(params: URLSearchParams, maxChannels: number): string[] {
  const names = params.getAll("channel");
  if (names.length === 0) return [DEFAULT_CHANNEL];
  const unique = [...new Set(names)];
  if (unique.length > maxChannels) {
    throw new SseInputError("channel", `too many channels: at most ${maxChannels} per stream`);
  }
  return unique.map(assertChannel);
}
