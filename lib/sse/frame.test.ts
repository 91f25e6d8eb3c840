import { describe, expect, it } from "vitest";
import { encodeComment, encodeEvent, parseFrame, SseInputError } from "@/lib/sse/frame";

// Flask-SSE's tests/test_message.py, case for case, in our wire format (`field: value`).
describe("encodeEvent (Flask-SSE Message tests)", () => {
  it("rejects a message without data", () => {
    expect(() => encodeEvent({} as never)).toThrow(SseInputError);
  });

  it("encodes a simple message", () => {
    expect(encodeEvent({ data: "foo" })).toBe("data: foo\n\n");
  });

  it("encodes a complex message", () => {
    expect(encodeEvent({ data: "foo", type: "example", id: 5, retry: 500 })).toBe(
      "event: example\ndata: foo\nretry: 500\nid: 5\n\n",
    );
  });

  it("encodes a multi-line message", () => {
    expect(encodeEvent({ data: "foo\nbar" })).toBe("data: foo\ndata: bar\n\n");
  });

  it("encodes a JSON message", () => {
    expect(encodeEvent({ data: { foo: "bar" } })).toBe('data: {"foo":"bar"}\n\n');
  });
});

describe("encodeEvent edge cases", () => {
  it("keeps id 0 and retry 0, which Flask-SSE drops", () => {
    expect(encodeEvent({ data: "x", id: 0, retry: 0 })).toBe("data: x\nretry: 0\nid: 0\n\n");
  });

  it("splits data on CRLF, CR and LF alike", () => {
    expect(encodeEvent({ data: "a\r\nb\rc\nd" })).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n");
  });

  it("keeps empty data and trailing line breaks as data lines", () => {
    expect(encodeEvent({ data: "" })).toBe("data: \n\n");
    expect(encodeEvent({ data: "a\n" })).toBe("data: a\ndata: \n\n");
  });

  it("keeps a leading space in data", () => {
    expect(encodeEvent({ data: " x" })).toBe("data:  x\n\n");
  });

  it("encodes JSON scalars and arrays", () => {
    expect(encodeEvent({ data: 42 })).toBe("data: 42\n\n");
    expect(encodeEvent({ data: null })).toBe("data: null\n\n");
    expect(encodeEvent({ data: [1, "a"] })).toBe('data: [1,"a"]\n\n');
  });

  it("rejects data that JSON cannot represent", () => {
    expect(() => encodeEvent({ data: () => 1 })).toThrow(/JSON/);
  });

  it.each(["a\nb", "a\rb", "a\0b", "\r\n"])("rejects a type or id containing %j", (bad) => {
    expect(() => encodeEvent({ data: "x", type: bad })).toThrow(/type must not contain/);
    expect(() => encodeEvent({ data: "x", id: bad })).toThrow(/id must not contain/);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects retry %s", (retry) => {
    expect(() => encodeEvent({ data: "x", retry })).toThrow(/retry must be/);
  });

  it("names the field in the error", () => {
    try {
      encodeEvent({ data: "x", id: "a\nb" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SseInputError);
      expect((error as SseInputError).field).toBe("id");
    }
  });

  it("treats an empty type as the default message type", () => {
    expect(encodeEvent({ data: "x", type: "" })).toBe("data: x\n\n");
  });
});

describe("encodeComment", () => {
  it("writes one comment line per line", () => {
    expect(encodeComment("hi")).toBe(": hi\n\n");
    expect(encodeComment("a\nb")).toBe(": a\n: b\n\n");
  });
});

describe("parseFrame", () => {
  it("reads a frame back into what EventSource would see", () => {
    const frame = encodeEvent({ type: "update", data: "line 1\n line 2", id: "7-0" });
    expect(parseFrame(frame)).toEqual({ type: "update", data: "line 1\n line 2", id: "7-0" });
    expect(parseFrame(new TextEncoder().encode('data: {"a":1}\n\n'))).toEqual({
      type: undefined,
      data: '{"a":1}',
      id: undefined,
    });
  });
});
