import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryBroker } from "@/lib/broker/memory";
import { handleStreamRequest } from "@/lib/stream/handle-request";

// A custom `authorize` (an app's own rule) may return anything: only an Access, or any
// thenable that settles to one, grants a stream. Stands in for the app's rule only.
const rule = vi.hoisted(() => ({ access: undefined as unknown }));
vi.mock("@/lib/access/authorize", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/access/authorize")>();
  return {
    ...original,
    authorizedStreamChannels: () => ({ channels: ["a"], access: rule.access }),
  };
});

afterEach(() => vi.restoreAllMocks());

async function statusFor(access: unknown): Promise<number | "thrown"> {
  rule.access = access;
  const abort = new AbortController();
  try {
    const result = await handleStreamRequest(
      new Request("http://localhost/stream?channel=a"),
      abort.signal,
      {
        broker: new MemoryBroker({ maxLength: 0, ttlSeconds: 0 }),
        heartbeatMs: 0,
      },
    );
    abort.abort();
    return result instanceof Response ? result.status : 200;
  } catch {
    return "thrown";
  }
}

describe("a custom authorize", () => {
  it("is awaited when it returns a thenable that is not a native Promise", async () => {
    const refusing = {
      // biome-ignore lint/suspicious/noThenProperty: a library's promise-like on purpose
      then: (_: unknown, reject: (error: unknown) => void) =>
        reject(
          Object.assign(new Error("no"), {
            name: "HttpError",
            status: 401,
            code: "login_required",
          }),
        ),
    };
    expect(await statusFor(refusing)).toBe(401);
    const granting = {
      // biome-ignore lint/suspicious/noThenProperty: a library's promise-like on purpose
      then: (resolve: (access: unknown) => void) => resolve({}),
    };
    expect(await statusFor(granting)).toBe(200);
  });

  it("is never fail-open: a value that is neither an Access nor a thenable is an error", async () => {
    for (const value of [undefined, null, true, "yes", 1, [1]]) {
      expect(await statusFor(value)).toBe("thrown");
    }
    expect(await statusFor(Promise.resolve("yes"))).toBe("thrown");
    expect(await statusFor({})).toBe(200);
  });
});
