import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { StreamConnection, type StreamEvent, type StreamState } from "@/lib/client/connection";
import { StreamHost } from "@/lib/client/host";
import type { HostMessage } from "@/lib/client/protocol";

// A real HTTP server that answers each stream request with the next scripted reply, and
// records what the client sent.
type Reply = (req: IncomingMessage, res: ServerResponse) => void;
interface Script {
  url: string;
  requests: Array<{ url: string; headers: IncomingMessage["headers"]; at: number }>;
  close(): void;
}
const open: Script[] = [];

async function scriptedServer(replies: Reply[], fallback?: Reply): Promise<Script> {
  const requests: Script["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", headers: req.headers, at: Date.now() });
    const reply = replies.shift() ?? fallback;
    if (reply) reply(req, res);
    else res.writeHead(500).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const script = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`,
    requests,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
  open.push(script);
  return script;
}

afterEach(() => {
  for (const script of open.splice(0)) script.close();
});

const sse = (body: string, end = false): Reply => {
  return (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/event-stream" });
    if (end) res.end(body);
    else res.write(body);
  };
};
const refuse = (status: number, code: string, headers: Record<string, string> = {}): Reply => {
  return (_req, res) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify({ error: { code, message: `refused: ${code}` } }));
  };
};

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

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
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

  it("comes back at once after a clean end (retry: 0), without counting a failure", async () => {
    const script = await scriptedServer(
      [sse("data: a\nid: 1-0\n\n: reconnect\nretry: 0\n\n", true)],
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
});

describe("StreamHost", () => {
  it("carries every client's public channels in one stream, token-bearing ones apart, and splits past the limit", async () => {
    const script = await scriptedServer([], sse(": connected\n\n"));
    const host = new StreamHost({ random: () => 0 });
    const got = new Map<string, HostMessage[]>();
    const client = (id: string) => (message: HostMessage) => {
      got.set(id, [...(got.get(id) ?? []), message]);
      if (message.type === "token?") {
        host.receive(id, { type: "token", requestId: message.requestId, token: "t" }, client(id));
      }
    };
    const subscribe = (id: string, wanted: Array<{ channels: string[]; auth?: boolean }>) =>
      host.receive(
        id,
        {
          type: "subscribe",
          url: script.url,
          wanted: wanted.map((w) => ({ channels: w.channels, rewind: 0, auth: w.auth ?? false })),
          positions: [],
          maxChannels: 2,
        },
        client(id),
      );
    subscribe("tab1", [{ channels: ["a"] }, { channels: ["b"] }]);
    subscribe("tab2", [{ channels: ["a"] }, { channels: ["private-x"], auth: true }]);
    await until(() => script.requests.length === 2);
    expect(host.connectionCount()).toBe(2);
    subscribe("tab3", [{ channels: ["c"] }]);
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
});
