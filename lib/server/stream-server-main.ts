// `npm run start:stream-server`: the plain Node stream server on SSE_STREAM_SERVER_PORT
// (3001), beside `next start`. Invalid settings or no Redis: a message and exit code 1.
import { getConfig } from "@/lib/server/config";
import { validateSettingsOrExit } from "@/lib/server/startup";
import { createStreamServer } from "@/lib/server/stream-server";

validateSettingsOrExit();
try {
  const server = createStreamServer();
  const { streamServerPort, streamServerHost } = getConfig();
  server.on("error", (error) => {
    console.error(`[next-sse] stream server: ${error.message}`);
    process.exit(1);
  });
  // A burst of reconnects (after a deploy, or a Redis failover) overflows the default
  // accept backlog of 511; dropped SYNs cost clients a 1 s retransmit, then 3 s.
  server.listen({ port: streamServerPort, host: streamServerHost, backlog: 4096 }, () => {
    console.info(`[next-sse] stream server on http://${streamServerHost}:${streamServerPort}`);
  });
} catch (error) {
  console.error(`[next-sse] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
