import { describe, expect, it } from "vitest";
import { Rounds } from "@/lib/ops/rounds";

/** A round that waits until the test lets it finish. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe("Rounds", () => {
  it("runs once when nobody asks again", async () => {
    const rounds = new Rounds();
    const seen: boolean[] = [];
    await rounds.run(async (first) => {
      seen.push(first);
    });
    expect(seen).toEqual([true]);
  });

  it("runs one more round however many asks came during a round, and says so inside it", async () => {
    const rounds = new Rounds();
    const first = gate();
    const seen: Array<[boolean, boolean]> = [];
    let calls = 0;
    const running = rounds.run(async (isFirst) => {
      calls++;
      if (calls === 1) await first.opened;
      seen.push([isFirst, rounds.askedAgain]);
    });
    await rounds.run(async () => {
      throw new Error("never runs: a round is running");
    });
    await rounds.run(async () => {});
    first.open();
    await running;
    expect(seen).toEqual([
      [true, true],
      [false, false],
    ]);
  });

  it("answers an ask from before the first round with one more round after it", async () => {
    const rounds = new Rounds();
    rounds.ask();
    let calls = 0;
    await rounds.run(async () => {
      calls++;
    });
    expect(calls).toBe(2);
  });

  it("ends with a round's error and forgets what was asked", async () => {
    const rounds = new Rounds();
    const first = gate();
    const failing = rounds.run(async () => {
      await first.opened;
      throw new Error("read failed");
    });
    void rounds.run(async () => {});
    first.open();
    await expect(failing).rejects.toThrow("read failed");
    let calls = 0;
    await rounds.run(async () => {
      calls++;
    });
    expect(calls).toBe(1);
  });
});
