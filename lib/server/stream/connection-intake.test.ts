import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { resetSingletons } from "@/lib/server/singleton";
import { type IntakeRoutes, takeConnection } from "@/lib/server/stream/connection-intake";
import type { RequestHead } from "@/lib/server/stream/http1";

// Real sockets over loopback: what the production server's intake does with real bytes.
const servers: Server[] = [];

async function listen(routes: Partial<IntakeRoutes>): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (socket) =>
    takeConnection(socket, {
      toHttp: () => {},
      serveStream: () => {},
      headersTimeoutMs: 60_000,
      ...routes,
    }),
  );
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  // Each test's sweep starts with its own timeout.
  resetSingletons("silent-sockets");
});

describe("takeConnection", () => {
  it("serves a plain /stream request itself", async () => {
    const served = new Promise<RequestHead>((resolve) => {
      void listen({ serveStream: (_, head) => resolve(head) }).then((port) => {
        connect(port, "127.0.0.1").end("GET /stream?channel=a HTTP/1.1\r\nHost: x\r\n\r\n");
      });
    });
    expect((await served).target).toBe("/stream?channel=a");
  });

  it("hands any other connection over with every byte, in order", async () => {
    const request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    const received = new Promise<string>((resolve) => {
      const toHttp = (socket: Socket) => {
        let text = "";
        socket.on("data", (data: Buffer) => {
          text += data.toString("latin1");
          if (text.endsWith("MORE")) resolve(text);
        });
      };
      void listen({ toHttp }).then(async (port) => {
        const client = connect(port, "127.0.0.1");
        client.write(request);
        // More bytes, in the first read or a later one: either way they follow the first.
        await new Promise((r) => client.once("ready", r));
        client.write("MORE");
      });
    });
    expect(await received).toBe(`${request}MORE`);
  });

  it("closes a connection that sends nothing within the headers timeout", async () => {
    const port = await listen({ headersTimeoutMs: 200 });
    const client = connect(port, "127.0.0.1");
    const started = Date.now();
    await once(client.resume(), "close");
    // The sweep runs every max(1 s, timeout / 4).
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
