import { createServer, type IncomingHttpHeaders } from "node:http";
import { Duplex } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRequestHead } from "@/lib/transport/http1/http1";

// The fast path must never serve what Node's own parser would refuse or read otherwise:
// whatever `parseRequestHead` accepts, Node's HTTP server (fed the same bytes on a socket)
// accepts with the same method, target and header values. FC_SEED and FC_RUNS replay a
// failure (its seed is printed) or run longer.

type NodeRead = { method: string; url: string; headers: IncomingHttpHeaders } | "refused";

const server = createServer();
const waiting = new Map<Duplex, (read: NodeRead) => void>();
server.on("request", (req) => {
  waiting.get(req.socket)?.({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
  waiting.delete(req.socket);
});
server.on("clientError", (_error, socket) => {
  waiting.get(socket as Duplex)?.("refused");
  waiting.delete(socket as Duplex);
  socket.destroy();
});

/** What Node's HTTP server reads from these bytes: a request, or a refusal. */
function nodeRead(bytes: Buffer): Promise<NodeRead> {
  return new Promise((resolve) => {
    const socket = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
    waiting.set(socket, resolve);
    server.emit("connection", socket);
    socket.push(bytes);
    // Node parses what was pushed before this runs: no request by then means none.
    setImmediate(() => {
      if (waiting.delete(socket)) resolve("refused");
      socket.destroy();
    });
  });
}

const CRLF = "\r\n";

/** Mostly `usual`, sometimes one of `others`: most heads are near-valid, so many are read. */
function mostly<T>(usual: T, ...others: T[]): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(usual) },
    { weight: 1, arbitrary: fc.constantFrom(...others) },
  );
}

const odd = fc.constantFrom(
  ..."\0 \t \x0b \x0c \r \n \x20 : \x7f \x80 \xa0 \xff \x01 \x1f".split(" "),
);
const method = mostly("GET", "HEAD", "OPTIONS", "get", "POST", "PRI", "G ET", "GET ");
const target = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom("/stream", "/stream?channel=a", "/stream?channel=a&channel=b"),
  },
  { weight: 1, arbitrary: fc.constantFrom("/streamx", "*", "/stream/", "http://x/stream") },
  {
    weight: 2,
    arbitrary: fc
      .string({ unit: fc.constantFrom(..."a=&%41?/#\t+ ~".split("")), maxLength: 10 })
      .map((query) => `/stream?${query}`),
  },
);
const version = mostly("HTTP/1.1", "HTTP/1.0", "HTTP/1.10", "http/1.1", "HTTP/2.0", "HTTP/1.1 ");
const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("Accept", "Last-Event-ID", "Cookie", "X-A", "x-a") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ..."Host|Content-Length|Transfer-Encoding|Expect|Upgrade|X A|X\tA||X-\xe9|X-A ".split("|"),
    ),
  },
);
const valueChar = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...'ab1/=,;-"'.split("")) },
  { weight: 4, arbitrary: fc.constantFrom(" ", "\t") },
  { weight: 1, arbitrary: odd },
);
const header = fc.record({
  name,
  before: mostly(" ", "", "  ", "\t", " \t", "\x0b"),
  value: fc.string({ unit: valueChar, maxLength: 12 }),
  after: mostly("", " ", "\t", " \r", "\x0b", "\xa0", "\x0c"),
});
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: odd }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("fold" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("bare-lf" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("long" as const), size: fc.nat({ max: 20_000 }) }),
);

/** A head from parts, then mutated: duplicates, folding, bare line ends, stray bytes, cuts. */
const head = fc
  .record({
    method,
    target,
    version,
    headers: fc.array(header, { maxLength: 6 }),
    host: mostly(true, false),
    mutations: fc.oneof(fc.constant([]), fc.array(mutation, { minLength: 1, maxLength: 2 })),
  })
  .map(({ method, target, version, headers, host, mutations }) => {
    const lines = [`${method} ${target} ${version}`];
    if (host) lines.push("Host: example.com");
    for (const h of headers) lines.push(`${h.name}:${h.before}${h.value}${h.after}`);
    let text = `${lines.join(CRLF)}${CRLF}${CRLF}`;
    for (const m of mutations) {
      const at = "at" in m ? m.at % (text.length + 1) : 0;
      if (m.kind === "insert") text = text.slice(0, at) + m.byte + text.slice(at);
      else if (m.kind === "delete") text = text.slice(0, at) + text.slice(at + 1);
      else if (m.kind === "cut") text = text.slice(0, at);
      else if (m.kind === "long")
        text = text.replace(CRLF, `${CRLF}X-Long: ${"a".repeat(m.size)}${CRLF}`);
      else {
        const rows = text.split(CRLF);
        const row = 1 + (at % Math.max(1, rows.length - 3));
        if (rows[row] === undefined || rows[row] === "") continue;
        if (m.kind === "duplicate") rows.splice(row, 0, rows[row]);
        else if (m.kind === "fold") rows.splice(row + 1, 0, " folded");
        else rows[row] = `${rows[row]}\n${rows[row + 1] ?? ""}`;
        text = rows.join(CRLF);
      }
    }
    return Buffer.from(text, "latin1");
  });

describe("parseRequestHead against Node's parser", () => {
  it("accepts nothing Node refuses, and reads what it accepts as Node does", async () => {
    const runs = Number(process.env.FC_RUNS ?? 100_000);
    const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(head, async (bytes) => {
        const fast = parseRequestHead(bytes);
        if (fast === undefined) return;
        accepted++;
        const node = await nodeRead(bytes);
        expect(node).not.toBe("refused");
        if (node === "refused") return;
        expect(node.method).toBe(fast.method);
        expect(node.url).toBe(fast.target);
        for (const [header, value] of fast.headers) expect(node.headers[header]).toBe(value);
      }),
      { numRuns: runs, seed, verbose: 1 },
    );
    // The generator reaches the accepting side often enough for the property to mean much.
    expect(accepted).toBeGreaterThan(runs / 20);
    console.info(`[differential] ${runs} heads, ${accepted} accepted by the fast path`);
  }, 300_000);
});
