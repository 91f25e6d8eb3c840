import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";

// Every file the docs name in backticks exists: a path from the repository's root, or, for a
// bare file name (`session.ts` in a table of one folder), some file of the repository.
const ROOT = join(__dirname, "..", "..");
const DOCS = ["README.md", "SECURITY.md"];
const FILE = /`([\w./@()[\]-]+\.(?:ts|tsx|mjs|js|json|md|conf|yaml|css|lua))`/g;
// Made by a build or by the person (not in the repository): named, not shipped.
const NOT_SHIPPED =
  /^(?:\.next\/|dist\/|node_modules\/|\.env(?:\.local|\.production|\.development)?$)/;

const tracked = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n");
const names = new Set(tracked.map((path) => basename(path)));

describe("the docs' file references", () => {
  for (const doc of DOCS) {
    it(`${doc} names only files that exist`, () => {
      const text = readFileSync(join(ROOT, doc), "utf8");
      const missing = [...text.matchAll(FILE)]
        .map((match) => match[1])
        .filter((path) => !NOT_SHIPPED.test(path))
        .filter((path) => (path.includes("/") ? !existsSync(join(ROOT, path)) : !names.has(path)));
      expect([...new Set(missing)]).toEqual([]);
    });
  }
});
