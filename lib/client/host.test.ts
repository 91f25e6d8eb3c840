import { afterEach, describe, expect, it } from "vitest";
import { StreamHost } from "@/lib/client/host";
import type { HostMessage } from "@/lib/client/protocol";
import { RecentEvents } from "@/lib/client/recent-events";
import type { StreamEvent } from "@/lib/client/stream-state";
import { closeScriptedServers, scriptedServer, sse, until } from "@/tests/support/scripted-server";

afterEach(closeScriptedServers);

/** Messages each client got, and a `subscribe` that sends as that client. */
function clients(host: StreamHost, url: string) {
  const got = new Map<string, HostMessage[]>();
  const client = (id: string) => (message: HostMessage) => {
    got.set(id, [...(got.get(id) ?? []), message]);
    if (message.type === "token?") {
      host.receive(id, { type: "token", requestId: message.requestId, token: "t" }, client(id));
    }
  };
  const subscribe = (
    id: string,
    wanted: Array<{ channels: string[]; auth?: boolean }>,
    positions: Array<[string, string]> = [],
    maxChannels = 16,
  ) =>
    host.receive(
      id,
      {
        type: "subscribe",
        url,
        wanted: wanted.map((w) => ({ channels: w.channels, rewind: 0, auth: w.auth ?? false })),
        positions,
        maxChannels,
      },
      client(id),
    );
  const shown = (id: string) =>
    (got.get(id) ?? []).flatMap((m) => (m.type === "event" ? [m.event.data] : []));
  return { got, subscribe, shown };
}

const EVENT = (n: number) => `data: e${n}\nid: ${n}-0\n\n`;

describe("StreamHost", () => {
  it("carries every client's public channels in one stream, token-bearing ones apart, and splits past the limit", async () => {
    const script = await scriptedServer([], sse(": connected\n\n"));
    const host = new StreamHost({ random: () => 0 });
    const { got, subscribe } = clients(host, script.url);
    subscribe("tab1", [{ channels: ["a"] }, { channels: ["b"] }], [], 2);
    subscribe("tab2", [{ channels: ["a"] }, { channels: ["private-x"], auth: true }], [], 2);
    await until(() => script.requests.length === 2);
    expect(host.connectionCount()).toBe(2);
    subscribe("tab3", [{ channels: ["c"] }], [], 2);
    // a, b, c with at most 2 per stream: two public streams (a and b's stays as it was),
    // plus the private one.
    await until(() => host.connectionCount() === 3 && script.requests.length === 3);
    const urls = script.requests.map((r) => r.url).sort();
    expect(urls).toContain("/stream?channel=private-x");
    const privateRequest = script.requests.find((r) => r.url.includes("private-x"));
    expect(privateRequest?.headers.authorization).toBe("Bearer t");
    expect(got.get("tab1")?.some((m) => m.type === "token?")).toBe(false);
    expect(urls).toEqual([
      "/stream?channel=a&channel=b",
      "/stream?channel=c",
      "/stream?channel=private-x",
    ]);
    host.remove("tab3");
    host.remove("tab2");
    await until(() => host.connectionCount() === 1);
    host.close();
  });

  it("catches up a client that joins an open stream from behind, and resumes the stream for one further back than it remembers", async () => {
    // A new leader: the first tab's subscription opens the stream from e3, which replays
    // e4-e6 before the other tabs' subscriptions (also at e3) arrive.
    const script = await scriptedServer(
      [sse(`: connected\n\n${EVENT(4)}${EVENT(5)}${EVENT(6)}`)],
      sse(`: connected\n\n${EVENT(2)}${EVENT(3)}${EVENT(4)}${EVENT(5)}${EVENT(6)}`),
    );
    const host = new StreamHost({ random: () => 0 });
    const { subscribe, shown, got } = clients(host, script.url);
    subscribe("leader", [{ channels: ["a"] }], [["a", "3-0"]]);
    await until(() => shown("leader").length === 3);
    subscribe("late", [{ channels: ["a"] }], [["a", "3-0"]]);
    await Promise.resolve(); // the host reconciles after the current turn
    expect(shown("late")).toEqual(["e4", "e5", "e6"]);
    expect(got.get("late")?.[0]).toMatchObject({ type: "state", state: { status: "open" } });
    subscribe("current", [{ channels: ["a"] }], [["a", "6-0"]]);
    await Promise.resolve();
    expect(shown("current")).toEqual([]);
    expect(script.requests).toHaveLength(1);
    // Further back than the stream began (e3): only the server has e2 and e3.
    subscribe("behind", [{ channels: ["a"] }], [["a", "1-0"]]);
    await until(() => shown("behind").length === 5);
    expect(script.requests[1].headers["last-event-id"]).toBe("1-0");
    expect(shown("behind")).toEqual(["e2", "e3", "e4", "e5", "e6"]);
    host.close();
  });
});

describe("StreamHost refusals", () => {
  it("splits a refused channel off a shared stream: only its listeners hear of it, the rest resume at once", async () => {
    // `gated` is refused (a login went away), alone or in company; `sse` is public.
    const script = await scriptedServer([], (req, res) => {
      const gated = (req.url ?? "").includes("channel=gated");
      if (gated) {
        res.writeHead(401, { "Content-Type": "application/json" });
        res.end(
          req.method === "HEAD"
            ? undefined
            : '{"error":{"code":"login_required","message":"log in"}}',
        );
        return;
      }
      if (req.method === "HEAD") return void res.writeHead(200).end();
      sse(EVENT(Number(String(req.headers["last-event-id"] ?? "0").split("-")[0]) + 1))(req, res);
    });
    const host = new StreamHost({ random: () => 0 });
    const { got, subscribe, shown } = clients(host, script.url);
    subscribe("tab1", [{ channels: ["sse"] }]);
    subscribe("tab2", [{ channels: ["gated"] }]);
    await until(() => shown("tab1").length > 0);
    const states = (id: string) =>
      (got.get(id) ?? []).flatMap((m) => (m.type === "state" ? [m] : []));
    await until(() => states("tab2").some((m) => m.state.status === "closed"));
    const closed = states("tab2").find((m) => m.state.status === "closed");
    expect(closed?.channels).toEqual(["gated"]);
    expect(closed?.state.errorCode).toBe("login_required");
    // The shared stream was refused, then each channel probed, then `sse` alone resumed.
    expect(script.requests.map((r) => r.url)).toEqual(
      expect.arrayContaining(["/stream?channel=gated&channel=sse", "/stream?channel=sse"]),
    );
    expect(states("tab1").every((m) => m.state.status !== "closed")).toBe(true);
    expect(states("tab1").every((m) => m.state.error === null)).toBe(true);
    expect(host.connectionCount()).toBe(2);
    host.close();
  });
});

describe("RecentEvents", () => {
  const event = (n: number, channel = "a"): StreamEvent => ({
    type: "message",
    data: `e${n}`,
    id: `${n}-0`,
    channel,
    position: `${n}-0`,
  });

  it("covers what came after the start, and only what it still holds once full", () => {
    const recent = new RecentEvents(new Map([["a", "3-0"]]), 2);
    recent.add(event(4));
    expect(recent.covers("a", "3-0")).toBe(true);
    expect(recent.covers("a", "2-0")).toBe(false);
    expect(recent.covers("b", "0-0")).toBe(false);
    recent.add(event(1, "b"));
    expect(recent.covers("b", "1-0")).toBe(true);
    expect(recent.covers("b", "0-0")).toBe(false);
    // Full: e4 falls out, so a client at e3 would miss it.
    recent.add(event(5));
    expect(recent.covers("a", "3-0")).toBe(false);
    expect(recent.covers("a", "4-0")).toBe(true);
    expect(recent.after(new Map([["a", "4-0"]])).map((e) => e.data)).toEqual(["e5"]);
    expect(recent.after(new Map([["b", "0-0"]])).map((e) => e.data)).toEqual(["e1"]);
  });
});
