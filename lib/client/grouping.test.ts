import { describe, expect, it } from "vitest";
import { groupStreams } from "@/lib/client/grouping";

const client = (
  maxChannels: number,
  urls: Record<string, Array<{ channels: string[]; auth?: boolean }>>,
) => ({
  maxChannels,
  urls: new Map(
    Object.entries(urls).map(([url, wanted]) => [
      url,
      { wanted: wanted.map((w) => ({ channels: w.channels, rewind: 0, auth: w.auth ?? false })) },
    ]),
  ),
});

describe("groupStreams", () => {
  it("puts a URL's public channels together, each token-bearing set apart, in chunks of the smallest limit", () => {
    const streams = groupStreams([
      client(0, { "/stream": [{ channels: ["b", "a"] }, { channels: ["private-x"], auth: true }] }),
      client(2, { "/stream": [{ channels: ["c", "a"] }, { channels: ["private-x"], auth: true }] }),
      client(0, { "/other": [{ channels: ["a"] }] }),
    ]);
    expect([...streams.values()]).toEqual([
      { url: "/stream", channels: ["a", "b"], auth: false },
      { url: "/stream", channels: ["c"], auth: false },
      { url: "/other", channels: ["a"], auth: false },
      { url: "/stream", channels: ["private-x"], auth: true },
    ]);
    expect([...streams.keys()][0]).toBe("public\n/stream\na\nb");
  });
});
