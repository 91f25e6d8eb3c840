import { describe, expect, it } from "vitest";
import { StreamLifecycle } from "@/lib/stream/lifecycle";

describe("StreamLifecycle", () => {
  it("moves opening → replaying → live → ending → closed, and only forward from ending", () => {
    const life = new StreamLifecycle();
    expect(life.phase).toBe("opening");
    life.startReplay();
    expect([life.phase, life.flowing]).toEqual(["replaying", false]);
    life.goLive();
    expect([life.phase, life.flowing]).toEqual(["live", true]);
    life.startReplay(); // a broker recovery catches up again
    expect(life.phase).toBe("replaying");
    expect(life.beginEnding()).toBe(true);
    expect(life.beginEnding()).toBe(false);
    life.goLive(); // a catch-up that finishes while ending does not undo the ending
    life.startReplay();
    expect([life.phase, life.flowing]).toEqual(["ending", true]);
    expect(life.close("ended")).toBe(true);
    expect(life.phase).toBe("closed");
    expect(life.beginEnding()).toBe(false);
  });

  it("releases what it holds once, newest first, with the reason; later holds at once", () => {
    const life = new StreamLifecycle();
    const released: string[] = [];
    life.hold(() => released.push("subscription"));
    life.hold(() => {
      throw new Error("a release that fails");
    });
    life.hold((reason) => released.push(`count (${reason})`));
    expect(life.close("slow_consumer")).toBe(true);
    expect(life.close("client")).toBe(false);
    expect(released).toEqual(["count (slow_consumer)", "subscription"]);
    life.hold(() => released.push("late"));
    expect(released.at(-1)).toBe("late");
  });
});
