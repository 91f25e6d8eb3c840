import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { publishViaApi, STREAM_SERVERS, TEST_PUBLISH_TOKEN, uniqueChannel } from "../support/env";
import { SERVING_WAYS, startServer, type TestServer } from "../support/next-server";
import { startNginx } from "../support/nginx";
import { openStream } from "../support/sse-client";

// The edge of `npm start`: the raw /stream fast path and Node's HTTP server behind it, over
// raw TCP, with the fast path on and off; proxies in front; big resumes on every server.

const NODE_SERVERS = STREAM_SERVERS.filter((server) => server.name.startsWith("npm start"));

/** A raw connection: writes, and collects what comes back. */
function rawConnection(base: string) {
  const { hostname, port } = new URL(base);
  const socket: Socket = connect(Number(port), hostname);
  let received = "";
  const waiters = new Set<() => void>();
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
    for (const waiter of waiters) waiter();
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    closed,
    received: () => received,
    until(pattern: RegExp): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(received)) return;
          waiters.delete(check);
          resolve(received);
        };
        waiters.add(check);
        void closed.then(() => {
          if (waiters.delete(check)) reject(new Error(`closed before ${pattern}: ${received}`));
        });
        check();
      });
    },
  };
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

for (const fastPath of ["on", "off"]) {
  test(`fast path ${fastPath}: 500 connections closed before their first byte free their descriptors at once`, async () => {
    const server = await startServer("npm start", { SSE_FAST_PATH: fastPath });
    try {
      const baseline = fds(server.pid);
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const c = rawConnection(server.url);
            await new Promise((resolve) => c.socket.once("connect", resolve));
            c.socket.end();
            await c.closed;
          }),
        );
      }
      await expect.poll(() => fds(server.pid), { timeout: 1000 }).toBeLessThanOrEqual(baseline + 2);
    } finally {
      await server.stop();
    }
  });
}

for (const server of NODE_SERVERS) {
  test.describe(`${server.name}: a connection that carries a stream`, () => {
    const pipelinedPublish = (channel: string) => {
      const body = JSON.stringify({ channel, data: "pipelined" });
      return `POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_PUBLISH_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    };
    const history = async (channel: string) =>
      (
        (await (
          await fetch(`${server.url()}/api/channels/${channel}/history?order=oldest`)
        ).json()) as { events: Array<{ data: unknown }> }
      ).events.map((e) => e.data);

    for (const split of [false, true]) {
      test(`never runs a request pipelined behind it (head ${split ? "split across reads" : "in one read"})`, async () => {
        const marker = uniqueChannel("pipe");
        const c = rawConnection(server.url());
        const head = `GET /stream?channel=${uniqueChannel()} HTTP/1.1\r\nHost: x\r\n\r\n`;
        if (split) {
          await new Promise<void>((resolve) => c.socket.write(head.slice(0, 20), () => resolve()));
          // Nothing tells a client that the server has read a chunk: a pause makes two
          // reads likely. The assertions hold either way (one read is the other case).
          await new Promise((resolve) => setTimeout(resolve, 50));
          c.socket.write(head.slice(20) + pipelinedPublish(marker));
        } else c.socket.write(head + pipelinedPublish(marker));
        await c.until(/: connected\n/);
        // A publish that ran would be in the channel's history before this one.
        await publishViaApi({ channel: marker, data: "after" }, { base: server.url() });
        expect(await history(marker)).toEqual(["after"]);
        // Nothing was answered behind the stream, and the stream still runs.
        expect(c.received()).not.toMatch(/HTTP\/1\.1 20[01][\s\S]*HTTP\/1\.1/);
        expect(c.socket.destroyed).toBe(false);
        c.socket.destroy();
      });
    }

    test("answers HEAD with an error's headers and no body", async () => {
      const c = rawConnection(server.url());
      c.socket.write(
        `HEAD /stream?channel=private-${uniqueChannel()} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      await c.closed;
      const [head, body] = c.received().split("\r\n\r\n");
      expect(head).toMatch(/^HTTP\/1\.1 401 /);
      expect(head).toMatch(/\r\nContent-Length: [1-9]\d*/i);
      expect(body).toBe("");
    });
  });
}

test("without a trusted proxy, a client's own X-Forwarded-Host does not pass Next.js's Server Action origin check", async () => {
  const manifest = JSON.parse(
    readFileSync(
      join(__dirname, "..", "..", ".next", "server", "server-reference-manifest.json"),
      "utf8",
    ),
  ) as { node: Record<string, { exportedName: string }> };
  const [signOut] =
    Object.entries(manifest.node).find(([, v]) => v.exportedName === "signOut") ?? [];
  const trusted = await startServer("npm start", { SSE_TRUST_PROXY: "1" });
  try {
    const forged = (base: string) =>
      fetch(`${base}/`, {
        method: "POST",
        headers: {
          "Next-Action": signOut ?? "",
          Origin: "http://evil.example",
          "X-Forwarded-Host": "evil.example",
          "Content-Type": "text/plain;charset=UTF-8",
        },
        body: "[]",
      });
    // Believed from a proxy of ours (the action runs); refused from a client.
    expect((await forged(trusted.url)).status).toBe(200);
    for (const server of NODE_SERVERS) expect((await forged(server.url())).status).toBe(500);
  } finally {
    await trusted.stop();
  }
});

for (const { kind, label, env } of SERVING_WAYS) {
  test(`${label} behind nginx with SSE_TRUST_PROXY=1: the client is the address nginx appended, whatever it sent`, async () => {
    const server = await startServer(kind, {
      ...env,
      SSE_TRUST_PROXY: "1",
      SSE_MAX_STREAMS_PER_CLIENT: "3",
    });
    const nginx = await startNginx([server.port]);
    const streams = [];
    try {
      // Each with an X-Forwarded-For of its own choosing: still one client, 127.0.0.1.
      for (let i = 0; i < 3; i++) {
        const s = await openStream(`${nginx.url}/stream?channel=${uniqueChannel()}`, {
          "X-Forwarded-For": `10.9.8.${i}`,
        });
        expect(s.response.status).toBe(200);
        streams.push(s);
      }
      const fourth = await openStream(`${nginx.url}/stream?channel=${uniqueChannel()}`, {
        "X-Forwarded-For": "10.9.8.77",
      });
      expect(fourth.response.status).toBe(429);
      expect((await fourth.response.json()).error.code).toBe("too_many_client_streams");
    } finally {
      for (const s of streams) s.close();
      await nginx.stop();
      await server.stop();
    }
  });
}

test("behind nginx without SSE_TRUST_PROXY, the log says every client is one client and names the setting", async () => {
  const server: TestServer = await startServer("npm start", { SSE_MAX_STREAMS_PER_CLIENT: "4" });
  const proxy = await startNginx([server.port]);
  const streams = [];
  try {
    expect(server.output()).toMatch(/SSE_TRUST_PROXY is 0/);
    for (let i = 0; i < 3; i++) {
      streams.push(await openStream(`${proxy.url}/stream?channel=${uniqueChannel()}`));
    }
    await expect
      .poll(
        () =>
          server.output().match(/one private address holds \d+ streams[^\n]*SSE_TRUST_PROXY/g)
            ?.length,
      )
      .toBe(1);
  } finally {
    for (const s of streams) s.close();
    await proxy.stop();
    await server.stop();
  }
});

for (const server of STREAM_SERVERS) {
  test(`${server.name}: a resume of large events from the start replays them all`, async () => {
    const channel = uniqueChannel("big");
    const big = "x".repeat(60_000);
    for (let i = 0; i < 20; i++) {
      const published = await publishViaApi(
        { channel, data: `${i}|${big}` },
        { base: server.url() },
      );
      expect(published.status).toBe(200);
    }
    const s = await openStream(`${server.url()}/stream?channel=${channel}`, {
      "Last-Event-ID": "0-0",
    });
    expect(s.response.status).toBe(200);
    const events = await s.waitForEvents(20, 20_000);
    expect(events.map((e) => Number(e.data.split("|")[0]))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    s.close();
  });
}
