import { describe, expect, it } from "vitest";
import {
  MAX_HEAD_BYTES,
  parseRequestHead,
  responseHead,
  toRequestLike,
} from "@/lib/transport/http1/http1";

const head = (text: string) => parseRequestHead(Buffer.from(text, "latin1"));
const GET = "GET /stream?channel=a HTTP/1.1\r\nHost: x\r\n";

describe("parseRequestHead", () => {
  it("reads a plain stream request: method, target, lower-cased trimmed headers", () => {
    const parsed = head(`${GET}Last-Event-ID:  5-0 \r\nAccept: text/event-stream\r\n\r\n`);
    expect(parsed?.method).toBe("GET");
    expect(parsed?.target).toBe("/stream?channel=a");
    expect(parsed?.headers.get("last-event-id")).toBe("5-0");
    expect(parsed?.headers.get("accept")).toBe("text/event-stream");
    expect(head("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n")?.method).toBe("HEAD");
    expect(head("OPTIONS /stream HTTP/1.1\r\nHost: x\r\n\r\n")?.method).toBe("OPTIONS");
  });

  // Each of these is Node's to read: its parser validates and answers them.
  it.each([
    ["a partial head", `${GET}Accept: text/event-stream\r\n`],
    ["a pipelined request", `${GET}\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n`],
    ["a body", `${GET}Content-Length: 2\r\n\r\nhi`],
    ["a declared body", `${GET}Content-Length: 0\r\n\r\n`],
    ["chunked", `${GET}Transfer-Encoding: chunked\r\n\r\n`],
    ["an upgrade", `${GET}Upgrade: websocket\r\n\r\n`],
    ["Expect", `${GET}Expect: 100-continue\r\n\r\n`],
    ["another path", "GET /streams HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a sub-path", "GET /stream/x HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["the home page", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["POST", "POST /stream HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["HTTP/1.0", "GET /stream HTTP/1.0\r\nHost: x\r\n\r\n"],
    ["an absolute-form target", "GET http://x/stream HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a space in the target", "GET /stream?a b HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["no Host", "GET /stream HTTP/1.1\r\nAccept: */*\r\n\r\n"],
    ["two Hosts", `${GET}Host: y\r\n\r\n`],
    ["a repeated header", `${GET}Cookie: a=1\r\nCookie: b=2\r\n\r\n`],
    ["a folded header", `${GET}X-A: one\r\n two\r\n\r\n`],
    ["a space before the colon", `${GET}X-A : one\r\n\r\n`],
    ["a line without a colon", `${GET}nonsense\r\n\r\n`],
    ["a bare LF", `${GET}X-A: one\nX-B: two\r\n\r\n`],
    ["a NUL in a value", `${GET}X-A: o\0ne\r\n\r\n`],
    ["a bad name", `${GET}X(A): one\r\n\r\n`],
    ["a lower-case method", "get /stream HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["nothing", ""],
  ])("leaves %s to Node", (_, text) => {
    expect(head(text)).toBeUndefined();
  });

  it("leaves a head over Node's 16 KiB limit to Node (its 431)", () => {
    const big = `${GET}X-Big: ${"a".repeat(MAX_HEAD_BYTES)}\r\n\r\n`;
    expect(head(big)).toBeUndefined();
  });

  it("keeps obs-text in a value as Node does (latin1)", () => {
    expect(head(`${GET}X-Name: caf\xe9\r\n\r\n`)?.headers.get("x-name")).toBe("caf\xe9");
  });
});

describe("toRequestLike", () => {
  const parsed = head(`${GET}X-Forwarded-For: 6.6.6.6\r\nOrigin: https://a.example\r\n\r\n`);
  if (parsed === undefined) throw new Error("unparsed");

  it("reads headers by any case and builds the URL from the target alone", () => {
    const request = toRequestLike(parsed, undefined);
    expect(request.url).toBe("http://localhost/stream?channel=a");
    expect(request.headers.get("Origin")).toBe("https://a.example");
    expect(request.headers.get("constructor")).toBeNull();
  });

  it("answers X-Forwarded-For with the socket's address unless the proxy is trusted", () => {
    let asked = 0;
    const peer = () => {
      asked++;
      return "10.0.0.7";
    };
    const untrusted = toRequestLike(parsed, peer);
    expect(asked).toBe(0); // read only when asked
    expect(untrusted.headers.get("x-forwarded-for")).toBe("10.0.0.7");
    expect(toRequestLike(parsed, undefined).headers.get("x-forwarded-for")).toBe("6.6.6.6");
  });
});

describe("responseHead", () => {
  it("writes status, headers, length, Date and Connection: close", () => {
    const text = responseHead(400, [["Content-Type", "application/json"]], 12);
    expect(text).toMatch(
      /^HTTP\/1\.1 400 Bad Request\r\nContent-Type: application\/json\r\nContent-Length: 12\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\nConnection: close\r\n\r\n$/,
    );
  });

  it("refuses a value that would split the response", () => {
    expect(() => responseHead(200, [["X-A", "a\r\nSet-Cookie: b"]])).toThrow(/line break/);
  });
});
