import { describe, expect, it } from "vitest";
import { describeIssue, PUBLISH_REQUEST_SCHEMA, requestChannels } from "@/lib/sse/publish-request";

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
