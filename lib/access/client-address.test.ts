import { describe, expect, it } from "vitest";
import { clientAddress, untrustedForwarding } from "@/lib/access/client-address";

const headers = (forwarded: string | null) => ({ get: () => forwarded });

describe("clientAddress", () => {
  it("takes the entry N proxies of yours appended, from the right", () => {
    const chain = headers("6.6.6.6, 10.0.0.7, 203.0.113.9");
    expect(clientAddress(chain, 0)).toBe("203.0.113.9");
    expect(clientAddress(chain, 1)).toBe("203.0.113.9");
    expect(clientAddress(chain, 2)).toBe("10.0.0.7");
    // Fewer entries than proxies: the leftmost is all there is.
    expect(clientAddress(chain, 5)).toBe("6.6.6.6");
    expect(clientAddress(headers(null), 1)).toBe("unknown");
  });
});

describe("untrustedForwarding", () => {
  it("believes the socket for X-Forwarded-For and the client for nothing else it forwards", () => {
    expect(untrustedForwarding("x-forwarded-for", "127.0.0.1")).toBe("127.0.0.1");
    expect(untrustedForwarding("x-forwarded-host", "127.0.0.1")).toBeNull();
    expect(untrustedForwarding("x-forwarded-proto", "127.0.0.1")).toBeNull();
    expect(untrustedForwarding("cookie", "127.0.0.1")).toBeUndefined();
  });
});
