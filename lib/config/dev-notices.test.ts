import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { noticeRestartOnlyEdits, restartReason } from "@/lib/config/dev-notices";

describe("restartReason", () => {
  it("names what a dev reload cannot reach, and nothing a reload does reach", () => {
    expect(restartReason(".env.local")).toMatch(/settings/);
    expect(restartReason(".env.development.local")).toMatch(/settings/);
    expect(restartReason("lib/broker/redis.ts")).toMatch(/broker/);
    expect(restartReason("server.ts")).toMatch(/server/);
    expect(restartReason("lib/access/authorize.ts")).toBeUndefined();
    expect(restartReason("lib/access/tokens.ts")).toBeUndefined();
    expect(restartReason("app/page.tsx")).toBeUndefined();
    expect(restartReason("lib/broker/memory.test.ts")).toBeUndefined();
  });

  it("logs one line when such a file changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dev-notices-"));
    mkdirSync(join(dir, "lib", "broker"), { recursive: true });
    writeFileSync(join(dir, "lib", "broker", "memory.ts"), "a");
    const log = vi.fn();
    const stop = noticeRestartOnlyEdits(dir, log);
    try {
      writeFileSync(join(dir, "lib", "broker", "memory.ts"), "b");
      writeFileSync(join(dir, ".env.local"), "A=1");
      await vi.waitFor(() => expect(log).toHaveBeenCalledTimes(2));
      expect(log.mock.calls.map(([line]) => line).sort()).toEqual([
        expect.stringMatching(/^\[next-sse\] \.env\.local changed: settings are read once/),
        expect.stringMatching(/^\[next-sse\] lib\/broker\/memory\.ts changed: the broker/),
      ]);
    } finally {
      stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
