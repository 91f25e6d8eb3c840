import { afterEach, describe, expect, it } from "vitest";
import { StreamConnection } from "@/lib/client/connection";
import type { StreamEvent, StreamState } from "@/lib/client/stream-state";
import {
  closeScriptedServers,
  refuse,
  scriptedServer,
  sse,
  until,
} from "@/tests/support/scripted-server";

afterEach(closeScriptedServers);

/** A connection with no jitter, collecting what it hands on. */
function connect(
  url: string,
  channels: string[],
  extra: Partial<ConstructorParameters<typeof StreamConnection>[0]> = {},
) {
  const events: StreamEvent[] = [];
  const states: StreamState[] = [];
  const connection = new StreamConnection({
    url,
    channels,
    random: () => 0,
    onEvent: (event) => events.push(event),
    onState: (state) => states.push(state),
    ...extra,
  });
  connection.start();
  return { connection, events, states };
}

describe("StreamConnection", () => {
  it("waits out a 503's Retry-After, then resumes after the last event, with the header", async () => {
    const script = await scriptedServer([
      sse("event: greeting\ndata: one\nid: 5-0\n\n", true),
      refuse(503, "too_many_streams", { "Retry-After": "1" }),
      sse("event: greeting\ndata: two\nid: 6-0\n\n"),
    ]);
    const { connection, events, states } = connect(script.url, ["news"]);
    await until(() => events.length === 2);
    connection.close();
    expect(events.map((e) => [e.type, e.data, e.channel, e.position])).toEqual([
      ["greeting", "one", "news", "5-0"],
      ["greeting", "two", "news", "6-0"],
    ]);
    expect(script.requests.map((r) => r.headers["last-event-id"])).toEqual([
      undefined,
      "5-0",
      "5-0",
    ]);
    expect(script.requests[0].url).toBe("/stream?channel=news");
    expect(script.requests[2].at - script.requests[1].at).toBeGreaterThanOrEqual(990);
    const refused = states.find((s) => s.errorCode === "too_many_streams");
    expect(refused).toMatchObject({ status: "reconnecting", attempt: 2 });
    expect(states.at(-1)?.status).toBe("closed");
  });

  it("stops where retrying cannot help: 400 closes with the server's message", async () => {
    const script = await scriptedServer([refuse(400, "invalid_channel")]);
    const { states } = connect(script.url, ["bad"]);
    await until(() => states.at(-1)?.status === "closed");
    expect(states.at(-1)).toMatchObject({
      error: "refused: invalid_channel",
      errorCode: "invalid_channel",
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(script.requests).toHaveLength(1);
  });

  it("asks for a token before each connect, sends it as a bearer, and once more when refused", async () => {
    const script = await scriptedServer([refuse(403, "token_expired"), sse(": connected\n\n")]);
    const asked: string[][] = [];
    const tokens = ["old", "fresh"];
    const { connection, states } = connect(script.url, ["private-a"], {
      getToken: async (channels) => {
        asked.push([...channels]);
        return tokens.shift() ?? null;
      },
    });
    await until(() => states.at(-1)?.status === "open");
    connection.close();
    expect(asked).toEqual([["private-a"], ["private-a"]]);
    expect(script.requests.map((r) => r.headers.authorization)).toEqual([
      "Bearer old",
      "Bearer fresh",
    ]);
  });

  it("stops when a fresh token is refused too, with the server's reason", async () => {
    const script = await scriptedServer([
      refuse(401, "invalid_token"),
      refuse(401, "invalid_token"),
    ]);
    const { states } = connect(script.url, ["private-a"], { getToken: () => "t" });
    await until(() => states.at(-1)?.status === "closed");
    expect(states.at(-1)?.errorCode).toBe("invalid_token");
    expect(script.requests).toHaveLength(2);
  });

  it("comes back at once after a clean end (: reconnect, with a jittered retry), without counting a failure", async () => {
    const script = await scriptedServer(
      [sse("data: a\nid: 1-0\n\n: reconnect\nretry: 734\n\n", true)],
      sse("data: b\nid: 2-0\n\n"),
    );
    const { connection, events, states } = connect(script.url, ["sse"]);
    await until(() => events.length === 2);
    connection.close();
    expect(events.map((e) => e.data)).toEqual(["a", "b"]);
    expect(states.every((s) => s.attempt === 0)).toBe(true);
    expect(script.requests[1].headers["last-event-id"]).toBe("1-0");
  });

  it("replaces a connection that goes silent past 2.5 announced heartbeats", async () => {
    const script = await scriptedServer(
      [sse(": connected\n: heartbeat-ms=100\nretry: 3000\n\ndata: x\nid: 3-0\n\n")],
      sse(": connected\n\n"),
    );
    const { connection, states } = connect(script.url, ["sse"]);
    await until(() => script.requests.length === 2, 3000);
    connection.close();
    expect(script.requests[1].at - script.requests[0].at).toBeGreaterThanOrEqual(250);
    expect(states.some((s) => s.errorCode === "silent")).toBe(true);
    expect(script.requests[1].headers["last-event-id"]).toBe("3-0");
  });

  it("on several channels: resumes only those with a position, drops what it had", async () => {
    const script = await scriptedServer(
      [
        sse(
          "event: position\ndata: \nid: /a=1-0\n\n" +
            "data: a2\nid: a/a=2-0\n\n" +
            "data: a2 again\nid: a/a=2-0\n\n",
          true,
        ),
      ],
      sse("data: b1\nid: b/a=2-0,b=7-0\n\n"),
    );
    const { connection, events } = connect(script.url, ["a", "b"]);
    await until(() => events.some((e) => e.data === "b1"));
    connection.close();
    expect(events.filter((e) => e.type === "message").map((e) => [e.channel, e.data])).toEqual([
      ["a", "a2"],
      ["b", "b1"],
    ]);
    expect(events[0].positions).toEqual([["a", "1-0"]]);
    expect(script.requests[1].headers["last-event-id"]).toBe("/a=2-0");
    expect(script.requests[1].url).toBe("/stream?channel=a&channel=b");
  });

  it("does not come back after end unauthorized until the page asks again, then resumes", async () => {
    const script = await scriptedServer([
      sse(
        'data: one\nid: 5-0\n\nevent: end\ndata: {"reason":"unauthorized"}\n\nretry: 0\n\n',
        true,
      ),
      sse("data: two\nid: 6-0\n\n"),
    ]);
    const { connection, events, states } = connect(script.url, ["user-a"]);
    await until(() => states.at(-1)?.status === "closed");
    // A clean end is scheduled to reconnect (`reconnecting`, a `retryAt`); this one is not.
    expect(states.at(-1)).toMatchObject({ errorCode: "unauthorized", retryAt: null });
    expect(states.some((s) => s.status === "reconnecting")).toBe(false);
    expect(script.requests).toHaveLength(1);
    connection.reconnect();
    await until(() => events.some((e) => e.data === "two"));
    expect(script.requests[1].headers["last-event-id"]).toBe("5-0");
    connection.close();
  });
});
