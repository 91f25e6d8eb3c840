import type { StandardSchemaV1 } from "@/lib/catalog/standard-schema";

/** A channel's event types: type -> the schema of its data. */
export type EventSchemas = Readonly<Record<string, StandardSchemaV1>>;

/**
 * What one channel name or pattern declares. A pattern is an exact name (`orders`), a
 * prefix ending in `*` (`private-user-*`, `chat.*`), or `*` for every other channel. What
 * is left out is the server's global setting, so `"*": {}` is today's behaviour.
 */
export interface ChannelDeclaration {
  /**
   * The event types of the channel and a schema each (zod, or any Standard Schema). Publishes
   * of other types are refused, and data that fails its schema too (400), unless `strict`
   * is false. Without `events`, any type and any JSON data.
   */
  events?: EventSchemas;
  /** False: types not listed in `events` pass unchecked (listed ones are still checked). */
  strict?: boolean;
  /** Needs a channel token naming it (default: the name starts with SSE_PRIVATE_PREFIX). */
  private?: boolean;
  /**
   * Who may publish: `"api"` (server code, and the publish API with its secret: the
   * default), or `"server"` (only server code: `publish()`, Server Actions; the API answers
   * 403).
   */
  publish?: "api" | "server";
  /** History bounds of the channel (default: SSE_HISTORY_*). */
  history?: {
    /** Events kept (at least 1). */
    maxLength?: number;
    /** Seconds an event is kept (at least 1)... */
    ttlSeconds?: number;
    /** ...except the newest N, kept while the channel is not idle longer than: */
    keepLast?: number;
    /** Seconds after the channel's last publish that those stay. */
    idleTtlSeconds?: number;
  };
  /** Most events `?rewind=` may show first (default SSE_MAX_REWIND). */
  maxRewind?: number;
  /** Whether `?members=1` lists the channel's users (private channels; default true). */
  members?: boolean;
  /**
   * Cache mode: a new subscriber (no `Last-Event-ID`) gets the channel's newest event first,
   * then live, as a page that shows "the current value" needs. Needs history.
   */
  cache?: boolean;
}

/** A whole declaration: pattern -> what it declares. */
export type ChannelDeclarations = Readonly<Record<string, ChannelDeclaration>>;
