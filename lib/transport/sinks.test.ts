import { once } from "node:events";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { readNodeRequest } from "@/lib/transport/http1/http1";
import { closeSignal } from "@/lib/transport/sinks";

// Real HTTP over loopback: the adapters read what Node's parser made of real bytes.
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Array<ReturnType<typeof createServer>> = [];

async function serveOnce(handler: Handler): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe("readNodeRequest", () => {
  it("reads method, URL and headers as a web Request would", async () => {
    let seen: ReturnType<typeof readNodeRequest> | undefined;
    const port = await serveOnce((req, res) => {
      seen = readNodeRequest(req);
      res.end();
    });
    // Raw bytes, so a header can repeat.
    const socket = connect(port, "127.0.0.1");
    socket.end(
      "GET /stream?channel=a&channel=b HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 5-0\r\n" +
        "X-Custom: one\r\nX-Custom: two\r\nConnection: close\r\n\r\n",
    );
    const done = once(socket.resume(), "close");
    await done;
    expect(seen?.method).toBe("GET");
    expect(new URL(seen?.url ?? "").searchParams.getAll("channel")).toEqual(["a", "b"]);
    expect(seen?.headers.get("last-event-id")).toBe("5-0");
    expect(seen?.headers.get("Last-Event-ID")).toBe("5-0");
    expect(seen?.headers.get("x-custom")).toBe("one, two");
    expect(seen?.headers.get("origin")).toBeNull();
    // Not a header, though every object has one.
    expect(seen?.headers.get("constructor")).toBeNull();
    expect(seen?.headers.get("__proto__")).toBeNull();
  });
});

describe("closeSignal", () => {
  it("aborts once when the client leaves, and calls only listeners still added", async () => {
    let signal: ReturnType<typeof closeSignal> | undefined;
    const calls: string[] = [];
    let markOpened = () => {};
    let markClosed = () => {};
    const opened = new Promise<void>((resolve) => {
      markOpened = resolve;
    });
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const port = await serveOnce((_req, res) => {
      signal = closeSignal(res);
      const removed = () => calls.push("removed");
      signal.addEventListener("abort", () => calls.push("kept"));
      signal.addEventListener("abort", removed);
      signal.removeEventListener("abort", removed);
      res.once("close", () => markClosed());
      res.writeHead(200).write("open");
      markOpened();
    });
    const req = request({ port, path: "/stream" }, (res) => res.resume());
    req.on("error", () => {}); // the reset this test causes
    req.end();
    await opened;
    expect(signal?.aborted).toBe(false);
    req.destroy();
    await closed;
    expect(signal?.aborted).toBe(true);
    expect(calls).toEqual(["kept"]);
    // As an AbortSignal: a listener added after the abort is never called.
    signal?.addEventListener("abort", () => calls.push("late"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(["kept"]);
  });
});
