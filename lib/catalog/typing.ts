import type { Catalog } from "@/lib/catalog/catalog";
import type { ChannelDeclarations } from "@/lib/catalog/declaration";
import type { SchemaInput } from "@/lib/catalog/standard-schema";

/**
 * Types from a declaration (`defineChannels`), so a channel or event type that is not
 * declared, or data of the wrong shape, is a compile error. `D` is the declarations object.
 */

type Patterns<D> = Extract<keyof D, string>;

/** The channel names a pattern stands for: `chat.*` is every `chat.<anything>`. */
type NamesOf<P extends string> = P extends "*"
  ? string
  : P extends `${infer Stem}*`
    ? `${Stem}${string}`
    : P;

/** Every channel name the declaration allows (`string` when it has `*`). */
export type ChannelName<D> = NamesOf<Patterns<D>>;

type ExactPattern<D, C extends string> =
  C extends Patterns<D> ? (C extends `${string}*` ? never : C) : never;

type PrefixPattern<D, C extends string> = {
  [P in Patterns<D>]: P extends "*"
    ? never
    : P extends `${infer Stem}*`
      ? C extends `${Stem}${string}`
        ? P
        : never
      : never;
}[Patterns<D>];

/** The pattern whose rules apply to channel `C`: exact, then prefix, then `*`. */
export type PatternOf<D, C extends string> = [ExactPattern<D, C>] extends [never]
  ? [PrefixPattern<D, C>] extends [never]
    ? "*" extends Patterns<D>
      ? "*"
      : never
    : PrefixPattern<D, C>
  : ExactPattern<D, C>;

type DeclarationOf<D, C extends string> = D[PatternOf<D, C> & keyof D];

type EventsOf<D, C extends string> = DeclarationOf<D, C> extends { events: infer E } ? E : never;

/** The event types channel `C` takes: its declared ones (any when it declares none). */
export type EventTypeOf<D, C extends string> = [EventsOf<D, C>] extends [never]
  ? string
  : DeclarationOf<D, C> extends { strict: false }
    ? Extract<keyof EventsOf<D, C>, string> | (string & {})
    : Extract<keyof EventsOf<D, C>, string>;

/** The data of event type `T` on channel `C`: its schema's input (unknown when undeclared). */
export type EventDataOf<D, C extends string, T extends string> = [EventsOf<D, C>] extends [never]
  ? unknown
  : T extends keyof EventsOf<D, C>
    ? SchemaInput<EventsOf<D, C>[T]>
    : unknown;

/** One event of channel `C`, typed: a union over its event types. */
export type ChannelEvent<D, C extends string> = {
  [T in EventTypeOf<D, C>]: { id: string; type: T; data: EventDataOf<D, C, T> };
}[EventTypeOf<D, C>];

/** Every declared event type of every channel, with its data: what the hook's handlers take. */
export type DeclaredEvents<D> = {
  [T in {
    [P in Patterns<D>]: D[P] extends { events: infer E } ? Extract<keyof E, string> : never;
  }[Patterns<D>]]: {
    [P in Patterns<D>]: D[P] extends { events: infer E }
      ? T extends keyof E
        ? SchemaInput<E[T]>
        : never
      : never;
  }[Patterns<D>];
};

/** The declarations of a catalog. */
export type DeclarationsOf<K> = K extends Catalog<infer D extends ChannelDeclarations> ? D : never;
