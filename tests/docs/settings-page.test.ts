import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { settingsPage } from "@/scripts/docs/settings-page";

describe("docs/settings.md", () => {
  it("is what the config schema and .env.example say (npm run docs:settings writes it)", () => {
    const page = readFileSync(join(__dirname, "..", "..", "docs", "settings.md"), "utf8");
    expect(page).toBe(settingsPage());
  });
});
