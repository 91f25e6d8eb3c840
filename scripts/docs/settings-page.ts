import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ENV_SCHEMA } from "@/lib/config";

/**
 * `docs/settings.md`, made from the config schema (`lib/config/index.ts`: name, default,
 * range) and the description each setting has in `.env.example`. `npm run docs:settings`
 * writes it; a test fails when the page and the code differ.
 */
const ROOT = join(__dirname, "..", "..");

/** The comment lines above each `NAME=` of `.env.example`, joined. */
export function describedSettings(text: string): Map<string, string> {
  const described = new Map<string, string>();
  let comment: string[] = [];
  let sharedComment: string[] = [];
  for (const line of text.split("\n")) {
    const name = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1];
    if (name !== undefined && (line.startsWith(name) || line.startsWith(`# ${name}=`))) {
      if (!described.has(name)) {
        described.set(name, (comment.length > 0 ? comment : sharedComment).join(" ").trim());
      }
      // A setting's own comment ends at its line; the next one's starts after it, unless
      // two settings share one comment (a pair on consecutive lines).
      sharedComment = comment;
      comment = [];
      continue;
    }
    if (line.startsWith("# ---") || line.trim() === "") {
      comment = [];
      sharedComment = [];
    } else if (line.startsWith("#")) comment.push(line.replace(/^#\s?/, ""));
  }
  return described;
}

type Json = {
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  type?: string;
  anyOf?: Json[];
  minLength?: number;
  const?: unknown;
};

function allowed(json: Json): string {
  if (json.enum) return json.enum.map((v) => `\`${v}\``).join(", ");
  if (json.anyOf) return json.anyOf.map(allowed).join(" or ");
  if (json.const !== undefined) return `\`${json.const}\``;
  if (json.type === "integer") {
    const max = json.maximum === Number.MAX_SAFE_INTEGER ? "" : `${json.maximum}`;
    return `whole number ${json.minimum ?? ""}..${max}`;
  }
  if (json.type === "array") return "comma-separated list";
  if (json.minLength !== undefined) return `text, at least ${json.minLength} characters`;
  return "text";
}

/** The page, as the code says it is. */
export function settingsPage(): string {
  const described = describedSettings(readFileSync(join(ROOT, ".env.example"), "utf8"));
  const rows = Object.entries(ENV_SCHEMA.shape).map(([name, schema]) => {
    const json = z.toJSONSchema(schema as z.ZodType, {
      io: "output",
      unrepresentable: "any",
    }) as Json;
    const fallback = json.default === undefined ? "unset" : `\`${String(json.default)}\``;
    const description = (described.get(name) ?? "").replaceAll("|", "\\|");
    return `| \`${name}\` | ${fallback} | ${allowed(json)} | ${description} |`;
  });
  return [
    "# Settings",
    "",
    "<!-- Made by `npm run docs:settings` from lib/config/index.ts and .env.example: edit those. -->",
    "",
    "Every setting is an environment variable, checked in one place (`lib/config/index.ts`) when a",
    "server starts: an invalid value stops it, naming the variable and the env file it came from.",
    "`npm start`, `npm run dev` and the deploy folder's server load `.env`, `.env.local` and",
    "`.env.production[.local]` / `.env.development[.local]` as Next.js does; a process variable wins.",
    "An unknown `SSE_` name is reported once at start. `.env.example` is the same list, ready to copy.",
    "",
    "| Setting | Default | Allowed | What it does |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
