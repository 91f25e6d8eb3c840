import "server-only";
import type { IncomingMessage } from "node:http";
import { FORWARDING_HEADERS, untrustedForwarding } from "@/lib/access/client-address";
import type { RequestLike } from "@/lib/http";
import { singleton } from "@/lib/ops/singleton";

/**
 * The production server's fast path reads a `/stream` request straight off the socket: the
 * stream needs only its request line and headers, not Node's HTTP server's per-request work
 * (parser, request and response objects, the response's cork and chunk bookkeeping;
 * `npm run bench -- --fast-path on|off` shows what it saves). Only what is plainly valid is read here; anything else (a partial
 * or pipelined head, a body, a folded, duplicate or odd header, HTTP/1.0, another path) is
 * left to Node's own parser, which validates and answers it as it does every other request.
 */
export interface RequestHead {
  method: "GET" | "HEAD" | "OPTIONS";
  /** Origin-form: `/stream` or `/stream?…`. */
  target: string;
  /** Lower-cased names; one value each (a request with a repeated header is not read here). */
  headers: Map<string, string>;
}

/** Node's own limit (`--max-http-header-size`, 16 KiB): larger heads get its 431. */
export const MAX_HEAD_BYTES = 16 * 1024;
const METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
// Headers that give a request a body or change the connection: Node decides those.
const LEFT_TO_NODE = new Set(["content-length", "transfer-encoding", "expect", "upgrade"]);
// tchar (RFC 9110 5.6.2), for header names.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A field value: visible ASCII, obs-text, space and tab (RFC 9110 5.5); no CTLs, no CR/LF.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// An origin-form target of /stream: visible ASCII only.
const STREAM_TARGET = /^\/stream(?:\?[\x21-\x7e]*)?$/;

/**
 * Reads a complete request head for `path`, if the chunk is exactly one plainly valid head;
 * `undefined` leaves the connection to Node's HTTP server.
 */
export function parseRequestHead(chunk: Buffer): RequestHead | undefined {
  const end = chunk.length - 4;
  // One whole head and nothing after it (a body or a pipelined request is Node's to read).
  if (end < 0 || end > MAX_HEAD_BYTES || chunk.indexOf("\r\n\r\n", 0, "latin1") !== end) {
    return undefined;
  }
  const lines = chunk.toString("latin1", 0, end).split("\r\n");
  const requestLine = lines[0].split(" ");
  if (requestLine.length !== 3 || requestLine[2] !== "HTTP/1.1") return undefined;
  const [method, target] = requestLine;
  if (!METHODS.has(method) || !STREAM_TARGET.test(target)) return undefined;
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined; // also a folded line (starts with a space)
    const name = line.slice(0, colon).toLowerCase();
    // Optional whitespace is space and tab only (RFC 9110 5.6.3): `trim()` would also strip
    // CR, LF, VT, FF and NBSP, and serve what Node's parser refuses.
    const value = stripOws(line.slice(colon + 1));
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return undefined;
    if (headers.has(name) || LEFT_TO_NODE.has(name)) return undefined;
    headers.set(name, value);
  }
  // HTTP/1.1 requires Host; Node answers its absence with 400.
  if (!headers.has("host")) return undefined;
  return { method: method as RequestHead["method"], target, headers };
}

function stripOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === " " || value[start] === "\t")) start++;
  while (end > start && (value[end - 1] === " " || value[end - 1] === "\t")) end--;
  return value.slice(start, end);
}

/**
 * The head as the stream core reads a request. Without a trusted proxy (`peer` given),
 * X-Forwarded-For is the socket's address, whatever the client sent, read only if asked.
 */
export function toRequestLike(
  head: RequestHead,
  peer: (() => string | undefined) | undefined,
): RequestLike {
  const { headers } = head;
  return {
    method: head.method,
    // Only the path and query are read: the Host header never becomes part of the URL.
    url: `http://localhost${head.target}`,
    headers: {
      get: (name) => {
        const key = name.toLowerCase();
        if (peer !== undefined && FORWARDING_HEADERS.includes(key)) {
          // No proxy of ours: the client's own forwarding headers are not believed.
          return untrustedForwarding(key, peer()) ?? null;
        }
        return headers.get(key) ?? null;
      },
    },
  };
}

/**
 * A Node request as the stream core reads it: method, URL and headers, looked up in Node's
 * own parsed headers. No web `Request`: undici's validates every header and makes an
 * `AbortSignal`, work a stream never uses. The production server may
 * have replaced the client's X-Forwarded-For (see server.ts); this reads what it left.
 */
export function readNodeRequest(req: IncomingMessage): RequestLike {
  const target = req.url ?? "/";
  // The host is not read (only the path and query are), so a hostile Host header cannot
  // make the URL invalid. An absolute-form target was checked by the server.
  const url = target.startsWith("/") ? `http://localhost${target}` : target;
  return {
    method: req.method ?? "GET",
    url,
    headers: {
      get: (name) => {
        const key = name.toLowerCase();
        // Own headers only: `constructor` is not a header.
        if (!Object.hasOwn(req.headers, key)) return null;
        const value = req.headers[key];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(", ") : value;
      },
    },
  };
}

// Date (RFC 9110 6.6.1) changes once a second: formatted once per second, as Node does.
const httpDates = () => singleton("http-date", () => ({ second: -1, value: "" }));

function httpDate(now = Date.now()): string {
  const cache = httpDates();
  const second = Math.floor(now / 1000);
  if (second !== cache.second) {
    cache.second = second;
    cache.value = new Date(second * 1000).toUTCString();
  }
  return cache.value;
}

// No CR or LF may reach a header value (response splitting); ours never carry one.
const UNSAFE_VALUE = /[\r\n\0]/;

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * A response head that closes the connection after the body: a stream runs until the
 * connection closes (RFC 9112 6.3), and an error is the connection's last answer.
 */
export function responseHead(
  status: number,
  headers: Iterable<readonly [string, string]>,
  contentLength?: number,
): string {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of headers) {
    if (UNSAFE_VALUE.test(value)) throw new Error(`header ${name} holds a line break`);
    head += `${name}: ${value}\r\n`;
  }
  if (contentLength !== undefined) head += `Content-Length: ${contentLength}\r\n`;
  return `${head}Date: ${httpDate()}\r\nConnection: close\r\n\r\n`;
}
