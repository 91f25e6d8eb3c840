import type {
  ChannelDeclaration,
  ChannelDeclarations,
  EventSchemas,
} from "@/lib/catalog/declaration";
import { isStandardSchema, type StandardSchemaV1 } from "@/lib/catalog/standard-schema";
import { isValidChannel, MAX_CHANNEL_LENGTH } from "@/lib/sse/channel";
import { RESERVED_EVENT_TYPES } from "@/lib/sse/events";

/** A declaration that cannot be used; the server does not start with one. */
export class ChannelDeclarationError extends Error {
  readonly code = "invalid_channels";
  constructor(message: string) {
    super(message);
    this.name = "ChannelDeclarationError";
  }
}

/** What applies to one channel: its pattern's declaration, checked. */
export interface ChannelRules {
  /** The pattern that matched (`orders`, `chat.*`, `*`). */
  readonly pattern: string;
  /** Declared event types; undefined: any type. */
  readonly events: ReadonlyMap<string, StandardSchemaV1> | undefined;
  /** Types not in `events` are refused. */
  readonly strict: boolean;
  /** Undefined: the SSE_PRIVATE_PREFIX rule decides. */
  readonly private: boolean | undefined;
  readonly publish: "api" | "server";
  readonly history: ChannelDeclaration["history"];
  readonly maxRewind: number | undefined;
  readonly members: boolean;
  readonly cache: boolean;
}

const KEYS = new Set([
  "events",
  "strict",
  "private",
  "publish",
  "history",
  "maxRewind",
  "members",
  "cache",
]);
const HISTORY_MINIMUM: Readonly<Record<string, number>> = {
  maxLength: 1,
  ttlSeconds: 1,
  keepLast: 0,
  idleTtlSeconds: 0,
};

/**
 * The app's channels, declared once (`lib/channels.ts`): which rules apply to a channel,
 * found by exact name first, then the longest prefix pattern, then `*`. Checked on first
 * use (the server checks it at start and stops on a bad one, naming the pattern), so a
 * mistake is never found by a request.
 */
export class Catalog<D extends ChannelDeclarations = ChannelDeclarations> {
  private checked:
    | {
        exact: Map<string, ChannelRules>;
        prefixes: ChannelRules[];
        rest: ChannelRules;
        list: ChannelRules[];
      }
    | undefined;

  constructor(readonly declarations: D) {}

  /** Checks every declaration. @throws ChannelDeclarationError naming the pattern. */
  check(): void {
    if (this.checked !== undefined) return;
    const exact = new Map<string, ChannelRules>();
    const prefixes: ChannelRules[] = [];
    let rest = rulesFrom("*", {});
    const list: ChannelRules[] = [];
    for (const [pattern, declaration] of Object.entries(this.declarations)) {
      const rules = rulesFrom(pattern, declaration);
      list.push(rules);
      if (pattern === "*") rest = rules;
      else if (pattern.endsWith("*")) prefixes.push(rules);
      else exact.set(pattern, rules);
    }
    refuseOverlaps(this.declarations, exact, prefixes);
    // The longest prefix first: the most specific pattern wins (overlaps are refused above).
    prefixes.sort((a, b) => b.pattern.length - a.pattern.length);
    this.checked = { exact, prefixes, rest, list };
  }

  /** The rules of one channel. */
  rulesOf(channel: string): ChannelRules {
    this.check();
    const { exact, prefixes, rest } = this.checked as NonNullable<typeof this.checked>;
    const named = exact.get(channel);
    if (named !== undefined) return named;
    for (const rules of prefixes) {
      if (channel.startsWith(rules.pattern.slice(0, -1))) return rules;
    }
    return rest;
  }

  /** Every declared pattern's rules, in declaration order. */
  all(): ChannelRules[] {
    this.check();
    return [...(this.checked as NonNullable<typeof this.checked>).list];
  }
}

/**
 * Declares the app's channels (see `ChannelDeclaration`): their event types with a schema
 * each, access, history, rewind, members and cache mode. Typed: `publish`, the hook, the
 * history reads and `subscribe()` take their names, types and data from it.
 */
export function defineChannels<const D extends ChannelDeclarations>(declarations: D): Catalog<D> {
  return new Catalog(declarations);
}

function rulesFrom(pattern: string, declaration: ChannelDeclaration): ChannelRules {
  const fail = (problem: string): never => {
    throw new ChannelDeclarationError(`channels: "${pattern}": ${problem}`);
  };
  const stem = pattern.endsWith("*") ? pattern.slice(0, -1) : pattern;
  if (pattern !== "*" && !isValidChannel(stem, MAX_CHANNEL_LENGTH)) {
    fail("a pattern is a channel name (A-Z a-z 0-9 . _ : -), optionally ending in *");
  }
  if (typeof declaration !== "object" || declaration === null || Array.isArray(declaration)) {
    fail("must be an object of rules");
  }
  for (const key of Object.keys(declaration)) {
    if (!KEYS.has(key)) fail(`unknown rule "${key}" (known: ${[...KEYS].join(", ")})`);
  }
  for (const key of ["strict", "private", "members", "cache"] as const) {
    const value = declaration[key];
    if (value !== undefined && typeof value !== "boolean") fail(`${key} must be true or false`);
  }
  if (declaration.publish !== undefined && !["api", "server"].includes(declaration.publish)) {
    fail('publish must be "api" or "server"');
  }
  const { maxRewind } = declaration;
  if (maxRewind !== undefined && !(Number.isInteger(maxRewind) && maxRewind >= 0)) {
    fail("maxRewind must be a whole number of at least 0");
  }
  const history = declaration.history;
  if (history !== undefined) {
    if (typeof history !== "object" || history === null) fail("history must be an object");
    for (const [key, value] of Object.entries(history)) {
      const minimum = HISTORY_MINIMUM[key];
      if (minimum === undefined) fail(`unknown history bound "${key}"`);
      if (!(Number.isInteger(value) && (value as number) >= minimum)) {
        fail(`history.${key} must be a whole number of at least ${minimum}`);
      }
    }
  }
  return {
    pattern,
    events: declaration.events === undefined ? undefined : eventsFrom(declaration.events, fail),
    strict: declaration.strict ?? true,
    private: declaration.private,
    publish: declaration.publish ?? "api",
    history,
    maxRewind,
    members: declaration.members ?? true,
    cache: declaration.cache ?? false,
  };
}

function eventsFrom(
  events: EventSchemas,
  fail: (problem: string) => never,
): Map<string, StandardSchemaV1> {
  if (typeof events !== "object" || events === null) fail("events must be an object");
  const map = new Map<string, StandardSchemaV1>();
  for (const [type, schema] of Object.entries(events)) {
    if (RESERVED_EVENT_TYPES.has(type)) fail(`event type "${type}" is reserved for the server`);
    if (type === "" || /[\r\n\0]/.test(type))
      fail(`event type ${JSON.stringify(type)} is not a valid type`);
    if (!isStandardSchema(schema)) {
      fail(`events.${type} is not a schema (zod, or any Standard Schema validator)`);
    }
    map.set(type, schema);
  }
  return map;
}

/** Two patterns a channel could match, with different rules, would make its rules a guess. */
function refuseOverlaps(
  declarations: ChannelDeclarations,
  exact: ReadonlyMap<string, ChannelRules>,
  prefixes: readonly ChannelRules[],
): void {
  const same = (a: string, b: string) => declarations[a] === declarations[b];
  for (const outer of prefixes) {
    const stem = outer.pattern.slice(0, -1);
    for (const inner of prefixes) {
      if (
        inner === outer ||
        !inner.pattern.startsWith(stem) ||
        same(inner.pattern, outer.pattern)
      ) {
        continue;
      }
      throw new ChannelDeclarationError(
        `channels: "${inner.pattern}" overlaps "${outer.pattern}" with different rules: declare one, or give them the same rules`,
      );
    }
    for (const name of exact.keys()) {
      if (name.startsWith(stem) && !same(name, outer.pattern)) {
        throw new ChannelDeclarationError(
          `channels: "${name}" is also matched by "${outer.pattern}" with different rules: rename one, or give them the same rules`,
        );
      }
    }
  }
}
