import { describe, expect, it } from "vitest";
import { lintEnvFile, unknownSettings } from "@/lib/config/env-files";

describe("lintEnvFile", () => {
  it("takes what dotenv reads: assignments, export, comments, blanks, quoted multi-line values", () => {
    const text = [
      "# a comment",
      "",
      "SSE_REDIS_URL=redis://127.0.0.1:6379",
      "export SSE_SECRET='abc'",
      '  SSE_JWT_PUBLIC_KEY="-----BEGIN PUBLIC KEY-----',
      "MIIB",
      '-----END PUBLIC KEY-----"',
      "SSE_DEMO= off # trailing comment",
      "EMPTY=",
    ].join("\n");
    expect(lintEnvFile(".env.local", text)).toEqual([]);
  });

  it("names the file and line of what dotenv would skip silently", () => {
    const text = ["OK=1", "SSE_REDIS_URL redis://x", "=value", "SSE SECRET=x"].join("\n");
    expect(lintEnvFile(".env", text)).toEqual([
      ".env line 2: not a NAME=value line",
      ".env line 3: not a NAME=value line",
      ".env line 4: not a NAME=value line",
    ]);
  });

  it("reports a quoted value that never closes", () => {
    expect(lintEnvFile(".env", 'A="open\nB=2\n')).toEqual([
      ".env line 1: the quoted value is never closed",
    ]);
  });
});

describe("unknownSettings", () => {
  const known = ["SSE_REDIS_URL", "SSE_SECRET", "PORT"];
  it("reports unknown SSE_ variables with the nearest setting, and nothing else", () => {
    expect(
      unknownSettings(
        { SSE_REDIS_ULR: "x", SSE_SECRET: "y", HOME: "/", SSE_COMPLETELY_OTHER: "z" },
        known,
      ),
    ).toEqual(["SSE_COMPLETELY_OTHER", "SSE_REDIS_ULR (did you mean SSE_REDIS_URL?)"]);
  });
});
