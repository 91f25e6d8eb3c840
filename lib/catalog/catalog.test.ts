import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ChannelDeclarationError, defineChannels } from "@/lib/catalog/catalog";
import type { ChannelEvent, EventTypeOf, PatternOf } from "@/lib/catalog/typing";
import { checkEvent } from "@/lib/catalog/validate";

const order = z.object({ item: z.string(), qty: z.number() });

describe("channel declarations", () => {
  const catalog = defineChannels({
    orders: { events: { order }, history: { keepLast: 5 }, cache: true },
    "chat.*": { events: { message: z.string() }, maxRewind: 20 },
    "private-user-*": { private: true, members: false },
    "*": {},
  });

  it("finds a channel's rules: exact name, then prefix, then *", () => {
    expect(catalog.rulesOf("orders")).toMatchObject({ pattern: "orders", cache: true });
    expect(catalog.rulesOf("chat.room-1")).toMatchObject({ pattern: "chat.*", maxRewind: 20 });
    expect(catalog.rulesOf("private-user-42")).toMatchObject({ private: true, members: false });
    expect(catalog.rulesOf("orders2")).toMatchObject({ pattern: "*", cache: false, strict: true });
    expect(catalog.rulesOf("orders").history).toEqual({ keepLast: 5 });
  });

  it("types names, event types and data from the declaration", () => {
    type D = typeof catalog.declarations;
    const pattern: PatternOf<D, "chat.lobby"> = "chat.*";
    const type: EventTypeOf<D, "orders"> = "order";
    // @ts-expect-error orders declares only `order`
    const typo: EventTypeOf<D, "orders"> = "ordr";
    const event: ChannelEvent<D, "orders"> = {
      id: "1-0",
      type: "order",
      data: { item: "a", qty: 1 },
    };
    const wrong: ChannelEvent<D, "orders"> = {
      id: "1-0",
      type: "order",
      // @ts-expect-error qty is a number
      data: { item: "a", qty: "1" },
    };
    expect([pattern, type, typo, event.type, wrong.type]).toHaveLength(5);
  });

  it("refuses undeclared types and invalid data, naming the path and the schema's message", async () => {
    const rules = catalog.rulesOf("orders");
    await expect(
      checkEvent(rules, "orders", "order", { item: "tea", qty: 2 }),
    ).resolves.toBeDefined();
    await expect(checkEvent(rules, "orders", "order", { item: "tea", qty: "2" })).rejects.toThrow(
      /^data\.qty: Invalid input: expected number, received string$/,
    );
    await expect(checkEvent(rules, "orders", undefined, {})).rejects.toThrow(
      'type: "message" is not an event type of channel orders (declared: order)',
    );
    // Undeclared channels take anything, as before.
    await expect(checkEvent(catalog.rulesOf("x"), "x", "any", 1)).resolves.toBe(1);
  });

  it("takes any Standard Schema, not only zod", async () => {
    const even = {
      "~standard": {
        version: 1 as const,
        vendor: "hand-written",
        validate: (value: unknown) =>
          typeof value === "number" && value % 2 === 0
            ? { value }
            : { issues: [{ message: "must be an even number", path: ["n"] }] },
      },
    };
    const rules = defineChannels({ counts: { events: { count: even } } }).rulesOf("counts");
    await expect(checkEvent(rules, "counts", "count", 3)).rejects.toThrow(
      "data.n: must be an even number",
    );
    await expect(checkEvent(rules, "counts", "count", 4)).resolves.toBe(4);
  });

  it("fails at the first use on a bad declaration, naming the pattern", () => {
    const bad = (declarations: Record<string, unknown>) => () =>
      // biome-ignore lint/suspicious/noExplicitAny: declarations that the types would refuse
      defineChannels(declarations as any).check();
    expect(bad({ "chat.*": {}, "chat.room.*": { cache: true } })).toThrow(
      'channels: "chat.room.*" overlaps "chat.*" with different rules',
    );
    expect(bad({ "chat.*": {}, "chat.lobby": { cache: true } })).toThrow(
      'channels: "chat.lobby" is also matched by "chat.*"',
    );
    expect(bad({ orders: { events: { order: { parse: () => 1 } } } })).toThrow(
      'channels: "orders": events.order is not a schema (zod, or any Standard Schema validator)',
    );
    expect(bad({ orders: { history: { ttlSeconds: -1 } } })).toThrow(
      'channels: "orders": history.ttlSeconds must be a whole number of at least 1',
    );
    expect(bad({ orders: { retention: 5 } })).toThrow('unknown rule "retention"');
    expect(bad({ "bad name": {} })).toThrow(ChannelDeclarationError);
    expect(bad({ "a*b": {} })).toThrow(/a pattern is a channel name/);
    expect(bad({ orders: { events: { reset: order } } })).toThrow(/reserved/);
    // The same rules under two overlapping patterns are one rule: allowed.
    const shared = { cache: true };
    expect(bad({ "chat.*": shared, "chat.room.*": shared })).not.toThrow();
  });
});
