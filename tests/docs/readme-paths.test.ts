import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SETTING_NAMES } from "@/lib/config";

// The docs cannot rot: every file they name exists, every setting they name is one, every
// link between them resolves, and every TypeScript block says which file it comes from and
// is that file's text, so it compiles and is linted with the project.
const ROOT = join(__dirname, "..", "..");

function markdownFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? markdownFiles(join(dir, entry.name))
      : entry.name.endsWith(".md")
        ? [join(dir, entry.name)]
        : [],
  );
}

const DOCS = ["README.md", "SECURITY.md", "CHANGELOG.md", ...markdownFiles("docs")];
const FILE = /`([\w./@()[\]-]+\.(?:ts|tsx|mjs|js|json|md|conf|yaml|css|lua))`/g;
// Made by a build or by the person (not in the repository): named, not shipped.
const NOT_SHIPPED =
  /^(?:\.next\/|dist\/|node_modules\/|\.env(?:\.local|\.production|\.development)?$)/;
const SETTING = /\b(SSE_[A-Z][A-Z0-9_]*[A-Z0-9])\b/g;
const LINK = /\]\(([^)\s]+)\)/g;
const CODE = /```(?:ts|tsx)\n\/\/ ([\w./()[\]-]+\.tsx?)\n([\s\S]*?)```/g;
// A TypeScript block that does not open with the file it comes from.
const UNNAMED_CODE = /```(?:ts|tsx|typescript)\n(?!\/\/ [\w./()[\]-]+\.tsx?\n)(.*)/g;

const tracked = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n");
const names = new Set(tracked.map((path) => basename(path)));

describe("the docs", () => {
  for (const doc of DOCS) {
    const text = readFileSync(join(ROOT, doc), "utf8");

    it(`${doc} names only files that exist`, () => {
      const missing = [...text.matchAll(FILE)]
        .map((match) => match[1])
        .filter((path) => !NOT_SHIPPED.test(path))
        .filter((path) => (path.includes("/") ? !existsSync(join(ROOT, path)) : !names.has(path)));
      expect([...new Set(missing)]).toEqual([]);
    });

    it(`${doc} names only settings that exist`, () => {
      const known = new Set(SETTING_NAMES);
      const unknown = [...text.matchAll(SETTING)]
        .map((m) => m[1])
        .filter((name) => !known.has(name));
      expect([...new Set(unknown)]).toEqual([]);
    });

    it(`${doc} links only to pages that exist`, () => {
      const broken = [...text.matchAll(LINK)]
        .map((m) => m[1])
        .filter((target) => !/^(?:https?:|mailto:|#)/.test(target))
        .map((target) => target.split("#")[0])
        .filter((target) => !existsSync(join(ROOT, dirname(doc), target)));
      expect(broken).toEqual([]);
    });

    // So every TypeScript block is type-checked and linted with the project (`examples/`
    // holds the guide's code that is not the app's).
    it(`${doc}'s TypeScript blocks each name the file they come from`, () => {
      expect([...text.matchAll(UNNAMED_CODE)].map((m) => m[1])).toEqual([]);
    });

    it(`${doc}'s code blocks that name their file are that file's text`, () => {
      const wrong = [...text.matchAll(CODE)]
        .filter(([, path, code]) => {
          const file = join(ROOT, path);
          return !existsSync(file) || !readFileSync(file, "utf8").includes(code.trimEnd());
        })
        .map(([, path]) => relative(ROOT, join(ROOT, path)));
      expect(wrong).toEqual([]);
    });
  }
});
