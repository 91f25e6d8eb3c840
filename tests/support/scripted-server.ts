import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A real HTTP server that answers each stream request with the next scripted reply, and
// records what the client sent.
export type Reply = (req: IncomingMessage, res: ServerResponse) => void;
export interface Script {
  url: string;
  requests: Array<{ url: string; headers: IncomingMessage["headers"]; at: number }>;
  close(): void;
}
const open: Script[] = [];

export async function scriptedServer(replies: Reply[], fallback?: Reply): Promise<Script> {
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

/** Closes every scripted server (call it in `afterEach`). */
export function closeScriptedServers(): void {
  for (const script of open.splice(0)) script.close();
}

export const sse = (body: string, end = false): Reply => {
  return (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/event-stream" });
    if (end) res.end(body);
    else res.write(body);
  };
};
export const refuse = (
  status: number,
  code: string,
  headers: Record<string, string> = {},
): Reply => {
  return (_req, res) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify({ error: { code, message: `refused: ${code}` } }));
  };
};

/** Resolves once `check` holds (polled every 10 ms), or throws after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
