import { describe, expect, it } from "vitest";
import { encodeEnvelope, isEnvelope } from "@/lib/sse/envelope";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("Flask-SSE envelopes", () => {
  it("tells envelopes from frames", () => {
    expect(isEnvelope(bytes('{"data":1}'))).toBe(true);
    expect(isEnvelope(bytes("data: 1\n\n"))).toBe(false);
    expect(isEnvelope(bytes("event: x\ndata: 1\n\n"))).toBe(false);
  });

  it("encodes what flask_sse publishes", () => {
    expect(encodeEnvelope('{"data": {"message": "Hello!"}, "type": "greeting"}')).toBe(
      'event: greeting\ndata: {"message":"Hello!"}\n\n',
    );
    expect(encodeEnvelope('{"data": "a\\nb", "id": 7, "retry": 100}')).toBe(
      "data: a\ndata: b\nretry: 100\nid: 7\n\n",
    );
  });

  it("rejects broken or unsafe envelopes", () => {
    expect(() => encodeEnvelope("{nope")).toThrow(/valid JSON/);
    expect(() => encodeEnvelope('{"type":"x"}')).toThrow(/"data" field/);
    expect(() => encodeEnvelope('{"data":1,"type":"a\\nb"}')).toThrow(/type must not contain/);
    expect(() => encodeEnvelope('{"data":1,"type":5}')).toThrow(/type must be a string/);
  });
});
