import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, SETTING_NAMES } from "@/lib/config";
import { lintEnvFile, unknownSettings } from "@/lib/config/env-files";

// `.env.example` is what a person copies to `.env.local`: it must load as it is, and say
// every setting there is.
const text = readFileSync(join(__dirname, "..", "..", ".env.example"), "utf8");
const env = Object.fromEntries(
  text
    .split("\n")
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
);

describe(".env.example", () => {
  it("loads as it is: every line is NAME=value or a comment, every value valid", () => {
    expect(lintEnvFile(".env.example", text)).toEqual([]);
    expect(unknownSettings(env, SETTING_NAMES)).toEqual([]);
    expect(() => parseConfig(env)).not.toThrow();
  });

  it("documents every setting (VERCEL is set by the platform)", () => {
    expect(SETTING_NAMES.filter((name) => !(name in env) && name !== "VERCEL")).toEqual([]);
  });
});
