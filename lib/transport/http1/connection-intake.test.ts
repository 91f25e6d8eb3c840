import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { resetSingletons } from "@/lib/ops/singleton";
import { type IntakeRoutes, takeConnection } from "@/lib/transport/http1/connection-intake";
import type { RequestHead } from "@/lib/transport/http1/http1";

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

  it("lets go at once of connections closed before their first byte", async () => {
    let server: Server | undefined;
    const port = await listen({});
    server = servers.at(-1);
    const count = () =>
      new Promise<number>((resolve) => server?.getConnections((_, n) => resolve(n)));
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const client = connect(port, "127.0.0.1");
          await once(client, "connect");
          client.end();
          await once(client.resume(), "close");
        }),
      );
    }
    const deadline = Date.now() + 1000;
    while ((await count()) > 0 && Date.now() < deadline) await new Promise(setImmediate);
    expect(await count()).toBe(0);
  });

  it("counts the headers timeout from the connection's start, also after the hand-off", async () => {
    const handedOff: Socket[] = [];
    const port = await listen({
      headersTimeoutMs: 2000,
      toHttp: (socket) => handedOff.push(socket),
    });
    const client = connect(port, "127.0.0.1");
    const started = Date.now();
    await once(client, "connect");
    // Silent for a while, then a head that never completes (Node's parser would wait on).
    await new Promise((resolve) => setTimeout(resolve, 1200));
    client.write("GET / HTTP/1.1\r\nHost: x\r\n");
    await once(client.resume(), "close");
    expect(handedOff).toHaveLength(1);
    // Closed by the deadline from the start (2 s, swept each second), not 2 s after the bytes.
    expect(Date.now() - started).toBeLessThan(3200);
  });
});
