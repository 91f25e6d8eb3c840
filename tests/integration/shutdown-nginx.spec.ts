import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { expect, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";
import { type ServerKind, startServer } from "../support/next-server";
import { startNginx } from "../support/nginx";
import { openStream } from "../support/sse-client";

// SIGTERM behind nginx with many open streams, some of whose clients stopped reading with
// megabytes on their way: the instance stops accepting, ends what it can (spread over
// SSE_DRAIN_SPREAD_MS), and exits by SSE_SHUTDOWN_TIMEOUT_MS whatever the clients do.
// SHUTDOWN_STREAMS=5000 for the full size.
const STREAMS = Number(process.env.SHUTDOWN_STREAMS ?? 1000);
const TIMEOUT_MS = 4000;

/** A client that asks for a stream and never reads a byte of it. */
function stalled(port: number, channel: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.write(
        `GET /stream?channel=${channel} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`,
      );
      socket.pause();
      resolve(socket);
    });
    socket.on("error", () => {});
  });
}

for (const kind of ["npm start", "next start"] as ServerKind[]) {
  test(`${kind} behind nginx: SIGTERM with ${STREAMS} streams and stalled clients exits by the shutdown timeout`, async () => {
    test.setTimeout(120_000);
    const server = await startServer(kind, {
      SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
      SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
      SSE_TRUST_PROXY: "1",
      SSE_MAX_STREAMS_PER_CLIENT: "0",
      SSE_SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS),
      SSE_DRAIN_SPREAD_MS: "1000",
      SSE_MAX_BACKLOG_BYTES: String(64 << 20),
      SSE_PUBLISH_MAX_BYTES: String(1 << 20),
    });
    const nginx = await startNginx([server.port], { workerConnections: STREAMS * 2 + 1024 });
    const channel = uniqueChannel("shutdown");
    const streams = [];
    try {
      for (let i = 0; i < STREAMS; i += 100) {
        streams.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(100, STREAMS - i) }, () =>
              openStream(`${nginx.url}/stream?channel=${channel}`),
            ),
          )),
        );
      }
      const heavy = uniqueChannel("stalled");
      const stuck = await Promise.all(
        Array.from({ length: 20 }, () => stalled(server.port, heavy)),
      );
      // Megabytes each stalled client will never read: their streams cannot end cleanly.
      const big = "x".repeat(900_000);
      for (let i = 0; i < 8; i++) {
        expect(
          (await publishViaApi({ channel: heavy, data: big }, { base: server.url })).status,
        ).toBe(200);
      }
      // When the process is gone, seen by a process of its own: this one is busy closing
      // thousands of streams at that moment, and would see the exit late.
      const watcher = spawn("sh", [
        "-c",
        // Gone, or a zombie: exited, waiting for this busy process to reap it.
        `while [ -e /proc/${server.pid} ] && ! grep -q '^State:.*Z' /proc/${server.pid}/status 2>/dev/null; do sleep 0.02; done; date +%s%3N`,
      ]);
      const goneAt = new Promise<number>((resolve) => {
        let out = "";
        watcher.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
        });
        watcher.on("exit", () => resolve(Number(out.trim())));
      });
      const started = Date.now();
      const exited = server.stop("SIGTERM");
      // Every reading stream is ended with the reconnect hint, within the spread.
      await Promise.all(streams.map((s) => s.ended));
      const endedAfter = Date.now() - started;
      for (const s of streams) expect(s.raw()).toMatch(/: reconnect\nretry: \d+\n\n$/);
      expect(await exited).toBe(143);
      const exitedAfter = (await goneAt) - started;
      console.info(
        `[shutdown] ${kind}: ${STREAMS} streams ended within ${endedAfter} ms, exited after ${exitedAfter} ms (timeout ${TIMEOUT_MS} ms)`,
      );
      expect(exitedAfter).toBeLessThan(TIMEOUT_MS + 2000);
      for (const socket of stuck) socket.destroy();
    } finally {
      for (const s of streams) s.close();
      await nginx.stop();
    }
  });
}
