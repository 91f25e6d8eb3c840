import { describe, expect, it } from "vitest";
import {
  describeIssue,
  MAX_DATA_DEPTH,
  nestsDeeperThan,
  PUBLISH_REQUEST_SCHEMA,
  parsePublishRequest,
  requestChannels,
} from "@/lib/sse/publish-request";

const parse = (body: unknown) => PUBLISH_REQUEST_SCHEMA.safeParse(body);
const problem = (body: unknown) => {
  const result = parse(body);
  if (result.success) throw new Error("expected a problem");
  return describeIssue(result.error);
};

describe("publish request schema", () => {
  it("accepts the Flask-SSE publish arguments", () => {
    const result = parse({ channel: "a", data: { x: [1] }, type: "t", id: 0, retry: 0 });
    expect(result.success).toBe(true);
    expect(requestChannels(parse({ data: 1 }).data as never)).toEqual(["sse"]);
    expect(requestChannels(parse({ channels: ["a", "b", "a"], data: null }).data as never)).toEqual(
      ["a", "b"],
    );
  });

  it("names the field that is wrong", () => {
    expect(problem({})).toEqual({ field: "data", message: "data: is required" });
    expect(problem({ data: 1, type: "a\nevent: x" })).toEqual({
      field: "type",
      message: "type: must not contain CR, LF or NUL",
    });
    expect(problem({ data: 1, id: "a\rb" }).field).toBe("id");
    expect(problem({ data: 1, retry: -1 }).field).toBe("retry");
    expect(problem({ data: 1, channel: "a b" }).field).toBe("channel");
    expect(problem({ data: 1, channels: ["ok", "no pe"] }).field).toBe("channels.1");
    expect(problem({ data: 1, channel: "a", channels: ["b"] }).field).toBe("channels");
    expect(problem({ data: 1, extra: true }).message).toBe('unknown field "extra"');
  });
});

describe("parsePublishRequest", () => {
  const limits = { maxChannelLength: 128, publishMaxBytes: 1024 };
  const problem = (body: unknown) => {
    try {
      parsePublishRequest(body, limits);
    } catch (error) {
      return error as { code: string; message: string };
    }
    throw new Error("expected a problem");
  };

  it("refuses data nested deeper than the limit before walking it", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(problem({ data: deep })).toMatchObject({
      code: "invalid_data",
      message: `data: nested deeper than ${MAX_DATA_DEPTH} levels`,
    });
    expect(nestsDeeperThan({ a: { b: [1] } }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: { b: [[1]] } }, 3)).toBe(true);
  });

  it("refuses the server's own event types and events over the size limit", () => {
    expect(problem({ data: 1, type: "reset" }).code).toBe("invalid_type");
    expect(problem({ data: 1, type: "end" }).code).toBe("invalid_type");
    expect(problem({ data: "x".repeat(2000) })).toMatchObject({ code: "invalid_data" });
    expect(parsePublishRequest({ data: "fine", type: "update" }, limits).type).toBe("update");
  });
});
