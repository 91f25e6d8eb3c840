import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getBroker } from "@/lib/broker";
import { joinMembers, listMembers, membersChannel, watchMembers } from "@/lib/features/members";
import { getPresenceStore } from "@/lib/features/presence";
import { resetSingletons } from "@/lib/ops/singleton";
import { drainStreams } from "@/lib/stream/registry";

// On the in-memory broker and presence store (no Redis configured), with fake timers: the
// reports are debounced (100 ms) and refreshed (10 s).

const decoder = new TextDecoder();

describe("members", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    resetSingletons();
  });
  afterEach(() => {
    vi.useRealTimers();
    resetSingletons();
  });

  async function follow(channel: string) {
    const events: unknown[] = [];
    await getBroker().subscribe(membersChannel(channel), (frame) => {
      events.push(JSON.parse(decoder.decode(frame).match(/^data: (.*)$/m)?.[1] ?? "null"));
    });
    return events;
  }

  it("a user joins with their first stream and leaves with their last; public channels have none", async () => {
    const events = await follow("private-room");
    const first = joinMembers(["private-room"], "ann", { name: "Ann" });
    const second = joinMembers(["private-room"], "ann", { name: "Ann" });
    await vi.advanceTimersByTimeAsync(150);
    expect(events).toEqual([
      { channel: "private-room", action: "join", sub: "ann", info: { name: "Ann" } },
    ]);
    expect(await listMembers("private-room")).toEqual([{ sub: "ann", info: { name: "Ann" } }]);
    first();
    first(); // idempotent
    await vi.advanceTimersByTimeAsync(150);
    expect(events).toHaveLength(1);
    second();
    await vi.advanceTimersByTimeAsync(150);
    expect(events[1]).toEqual({
      channel: "private-room",
      action: "leave",
      sub: "ann",
      info: { name: "Ann" },
    });
    await expect(listMembers("public-room")).rejects.toMatchObject({ code: "invalid_channel" });
  });

  it("a server shutting down does not say its users left (they reconnect elsewhere)", async () => {
    const events = await follow("private-room");
    const leave = joinMembers(["private-room"], "ann", undefined);
    await vi.advanceTimersByTimeAsync(150);
    expect(events).toHaveLength(1);
    void drainStreams(60_000);
    leave();
    await vi.advanceTimersByTimeAsync(11_000); // past a refresh too
    expect(events).toHaveLength(1);
  });

  it("where someone watches, the users of an instance that stopped reporting are seen to leave", async () => {
    const events = await follow("private-room");
    // Another instance reported Bob, then crashed: its entry expires.
    await getPresenceStore().reportMembers(
      "crashed",
      "private-room",
      new Map([["bob", undefined]]),
      5_000,
    );
    const unwatch = watchMembers(["private-room"]);
    await vi.advanceTimersByTimeAsync(10_500);
    expect(events).toEqual([{ channel: "private-room", action: "leave", sub: "bob" }]);
    unwatch();
  });
});
