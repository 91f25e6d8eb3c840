import { describe, expect, it } from "vitest";
import { StreamHub } from "@/lib/client/hub";
import type { ClientMessage } from "@/lib/client/protocol";
import type { StreamEvent } from "@/lib/client/stream-state";

const event = (channel: string, position: string | undefined, data = position ?? "") =>
  ({
    type: "event",
    url: "/stream",
    channels: [channel],
    event: { type: "message", data, id: position, channel, position },
  }) as const;

describe("StreamHub", () => {
  it("drops every event at or below the tab's own position, per channel", () => {
    const hub = new StreamHub("/stream", () => {}, 16);
    const seen: StreamEvent[] = [];
    hub.subscribe({ channels: ["a", "b"], onEvent: (e) => seen.push(e) });
    hub.receive(event("a", "5-0"));
    hub.receive(event("a", "4-0")); // a new host resumed from a tab further behind
    hub.receive(event("a", "5-0"));
    hub.receive(event("b", "4-0"));
    hub.receive(event("a", "6-0"));
    hub.receive(event("a", undefined, "no id: never dropped"));
    expect(seen.map((e) => `${e.channel}:${e.data}`)).toEqual([
      "a:5-0",
      "b:4-0",
      "a:6-0",
      "a:no id: never dropped",
    ]);
  });

  it("sends what it listens to once per turn, with its positions", async () => {
    const sent: ClientMessage[] = [];
    const hub = new StreamHub("/stream", (m) => sent.push(m), 4);
    const stop = hub.subscribe({ channels: ["a"], onEvent: () => {} });
    hub.subscribe({ channels: ["private-x"], getToken: () => "t", onEvent: () => {} });
    // StrictMode: unmounted and mounted again in the same turn.
    stop();
    hub.subscribe({ channels: ["a"], rewind: 5, onEvent: () => {} });
    hub.receive(event("a", "7-0"));
    await Promise.resolve();
    expect(sent).toEqual([
      {
        type: "subscribe",
        url: "/stream",
        wanted: [
          { channels: ["private-x"], rewind: 0, auth: true },
          { channels: ["a"], rewind: 5, auth: false },
        ],
        positions: [["a", "7-0"]],
        maxChannels: 4,
      },
    ]);
    expect(await hub.token(["private-x"])).toBe("t");
    expect(await hub.token(["a", "private-x"])).toBeNull();
  });

  it("starts a listener after a server render's position: the tab resumes there, or stays if further on", async () => {
    const sent: ClientMessage[] = [];
    const hub = new StreamHub("/stream", (m) => sent.push(m), 16);
    const seen: StreamEvent[] = [];
    hub.subscribe({
      channels: ["orders"],
      after: new Map([["orders", "10-0"]]),
      onEvent: (e) => seen.push(e),
    });
    await Promise.resolve();
    expect(sent.at(-1)).toMatchObject({ positions: [["orders", "10-0"]] });
    // What the page rendered comes again from a stream that resumed from further back.
    hub.receive(event("orders", "9-0"));
    hub.receive(event("orders", "10-0"));
    hub.receive(event("orders", "11-0"));
    expect(seen.map((e) => e.position)).toEqual(["11-0"]);
    // A tab already further on keeps its place.
    hub.subscribe({ channels: ["orders"], after: new Map([["orders", "3-0"]]), onEvent: () => {} });
    await Promise.resolve();
    expect(sent.at(-1)).toMatchObject({ positions: [["orders", "11-0"]] });
  });
});
