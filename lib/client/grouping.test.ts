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

describe("groupStreams by access", () => {
  it("gives each access group its own stream, and each isolated channel its own", () => {
    const wants = {
      maxChannels: 0,
      urls: new Map([
        [
          "/stream",
          {
            wanted: [
              { channels: ["sse", "news", "x"], rewind: 0, auth: false },
              { channels: ["orders", "carts"], rewind: 0, auth: false, access: "session" },
            ],
          },
        ],
      ]),
    };
    expect([...groupStreams([wants], new Set(["/stream\nx"])).entries()]).toEqual([
      ["public\n/stream\nnews\nsse", { url: "/stream", channels: ["news", "sse"], auth: false }],
      [
        "access:session\n/stream\ncarts\norders",
        { url: "/stream", channels: ["carts", "orders"], auth: false },
      ],
      ["solo\n/stream\nx", { url: "/stream", channels: ["x"], auth: false }],
    ]);
  });
});
