import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Every line next-sse writes to the log is in the operations runbook (what it means, what to
// do): a new message that is not fails here.
const ROOT = join(__dirname, "..", "..");
// `console.warn("…")`, `log().warn(…)`, `this.connectionLog.warn(…)`, the start's list of
// unsafe settings (`warnings.push("…")`) and the dev notices (`log(…)`).
const LOGGED =
  /(?:\b(?:console|\w*[lL]og(?:\(\))?)\.(?:warn|info|error)|warnings\.push|\blog)\(\s*[`"]((?:\[next-sse\] )?[^`"$]*)/g;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** The fixed start of each message the code logs (up to its first interpolation). */
function loggedMessages(): Array<{ file: string; text: string }> {
  return [...sources("lib"), "server.ts"].flatMap((file) =>
    [...readFileSync(join(ROOT, file), "utf8").matchAll(LOGGED)]
      .map((match) => match[1].replace(/^\[next-sse\] /, "").trim())
      .filter((text) => text.length >= 6)
      .map((text) => ({ file, text: text.slice(0, 40) })),
  );
}

describe("the runbook (docs/operations.md)", () => {
  it("finds the log lines in the code (the extraction works)", () => {
    expect(loggedMessages().length).toBeGreaterThan(20);
  });

  it("explains every line the server logs", () => {
    const runbook = readFileSync(join(ROOT, "docs", "operations.md"), "utf8");
    const missing = loggedMessages().filter(({ text }) => !runbook.includes(text));
    expect(missing).toEqual([]);
  });
});
