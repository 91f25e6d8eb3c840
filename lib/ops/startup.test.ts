import { describe, expect, it, vi } from "vitest";
import { parseConfig } from "@/lib/config";
import { warnAboutUnsafeSettings } from "@/lib/ops/startup";

describe("warnings at start", () => {
  it("says in production what is still unsafe, one line each, and nothing in development", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const unsafe = parseConfig({ SSE_CORS_ORIGINS: "*" });
    expect(warnAboutUnsafeSettings(unsafe, "development")).toEqual([]);
    const warnings = warnAboutUnsafeSettings(unsafe, "production");
    expect(warnings).toHaveLength(5);
    expect(warnings.join("\n")).toMatch(
      /SSE_DEMO[\s\S]*SSE_SECRET[\s\S]*SSE_METRICS_TOKEN[\s\S]*SSE_TRUST_PROXY[\s\S]*SSE_CORS_ORIGINS/,
    );
    expect(warn).toHaveBeenCalledTimes(5);
    const safe = parseConfig({
      SSE_TRUST_PROXY: "1",
      SSE_DEMO: "off",
      SSE_SECRET: "x".repeat(32),
      SSE_METRICS_TOKEN: "m".repeat(16),
    });
    expect(warnAboutUnsafeSettings(safe, "production")).toEqual([]);
    warn.mockRestore();
  });
});
