import { afterEach, describe, expect, it } from "vitest";
import { HttpError } from "@/lib/http";
import { resetSingletons } from "@/lib/ops/singleton";
import { recheckAccess, watchAccess } from "@/lib/stream/reauthorize";

afterEach(() => resetSingletons());

describe("recheckAccess", () => {
  it("asks the rule once per distinct identity for 10,000 streams, and ends only the refused", async () => {
    const signedOut = new Set<string>();
    const calls = new Map<string, number>();
    const ended: number[] = [];
    const unwatch: Array<() => void> = [];
    for (let i = 0; i < 10_000; i++) {
      const user = `user-${i % 50}`;
      unwatch.push(
        watchAccess(
          {
            key: `orders\0session=${user}`,
            check: async () => {
              calls.set(user, (calls.get(user) ?? 0) + 1);
              if (signedOut.has(user)) throw new HttpError(401, "login_required", "log in");
              return {};
            },
            end: () => ended.push(i),
          },
          60_000,
        ),
      );
    }
    expect(await recheckAccess()).toEqual({ calls: 50, ended: 0 });
    signedOut.add("user-7");
    expect(await recheckAccess()).toEqual({ calls: 50, ended: 200 });
    expect(ended.every((i) => i % 50 === 7)).toBe(true);
    expect([...calls.values()].every((n) => n === 2)).toBe(true);
    // Ended streams are no longer checked; the rest are, once a round.
    expect(await recheckAccess()).toEqual({ calls: 49, ended: 0 });
    for (const stop of unwatch) stop();
    expect(await recheckAccess()).toEqual({ calls: 0, ended: 0 });
  });

  it("ends nothing when the rule cannot decide (an outage), and accepts any thenable", async () => {
    let down = true;
    const ended: string[] = [];
    const stop = watchAccess(
      {
        key: "k",
        check: () => ({
          // A library's promise, not a native one.
          // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose
          then: (resolve: (v: unknown) => void, reject: (e: unknown) => void) =>
            down ? reject(new HttpError(503, "unavailable", "try later")) : resolve({}),
        }),
        end: () => ended.push("k"),
      },
      60_000,
    );
    expect(await recheckAccess()).toEqual({ calls: 1, ended: 0 });
    down = false;
    expect(await recheckAccess()).toEqual({ calls: 1, ended: 0 });
    expect(ended).toEqual([]);
    stop();
  });
});
