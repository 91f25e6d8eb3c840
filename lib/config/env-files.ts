import { initialEnv, loadEnvConfig } from "@next/env";
import { singleton } from "@/lib/ops/singleton";

/** An env file Next.js's loader read: its path relative to the app folder, and its text. */
export interface EnvFile {
  path: string;
  contents: string;
}

/**
 * Thrown at start-up for settings that cannot be used: an env file line that is not
 * `NAME=value` (`invalid_env_file`), or an invalid value (`invalid_settings`), naming each.
 */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly code: "invalid_settings" | "invalid_env_file" = "invalid_settings",
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

const loaded = () => singleton("env-files", () => ({ files: [] as EnvFile[], done: false }));

/**
 * Loads `.env`, `.env.local`, `.env.production[.local]` / `.env.development[.local]` from
 * `dir` into `process.env` with Next.js's own loader and precedence (a variable of the
 * process wins over every file), before any setting is read. A custom server reads its
 * settings before `next()` would load them, so it must load them itself.
 * Once per process: a second call (instrumentation under `npm start`) answers the first's.
 * @throws ConfigError naming the file and line of each line the loader would skip.
 */
export function loadEnvFiles(dir: string, dev: boolean): EnvFile[] {
  const state = loaded();
  if (state.done) return state.files;
  const quiet = { info: () => {}, error: console.error };
  const files = loadEnvConfig(dir, dev, quiet).loadedEnvFiles.map(({ path, contents }) => ({
    path,
    contents,
  }));
  state.files = files;
  state.done = true;
  const problems = files.flatMap((file) => lintEnvFile(file.path, file.contents));
  if (problems.length > 0) throw new ConfigError(problems.join("; "), "invalid_env_file");
  return files;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)(.*)$/;

/**
 * The lines dotenv (Next.js's parser) would silently skip: anything but blank lines,
 * comments and `NAME=value` (with quoted values that may span lines).
 */
export function lintEnvFile(path: string, contents: string): string[] {
  const problems: string[] = [];
  const lines = contents.split(/\r?\n/);
  let open: { quote: string; line: number } | undefined;
  lines.forEach((line, index) => {
    if (open !== undefined) {
      if (closes(line, open.quote)) open = undefined;
      return;
    }
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const match = ASSIGNMENT.exec(line);
    if (match === null) {
      problems.push(`${path} line ${index + 1}: not a NAME=value line`);
      return;
    }
    const value = match[2].trimStart();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === "`") && !closes(value.slice(1), quote)) {
      open = { quote, line: index + 1 };
    }
  });
  if (open !== undefined) {
    problems.push(`${path} line ${open.line}: the quoted value is never closed`);
  }
  return problems;
}

function closes(text: string, quote: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return true;
  }
  return false;
}

/**
 * Where a setting came from, for an error that names it: the env file that defines it
 * (the first in Next.js's precedence), or undefined for the process environment.
 */
export function settingSource(name: string): string | undefined {
  if (initialEnv?.[name] !== undefined) return undefined;
  const defines = new RegExp(
    `^\\s*(?:export\\s+)?${name.replace(/\./g, "\\.")}(?:\\s*=|:\\s)`,
    "m",
  );
  return loaded().files.find((file) => defines.test(file.contents))?.path;
}

/**
 * `SSE_` variables that are no setting (a typo such as SSE_REDIS_ULR would otherwise pass
 * silently), each with the closest setting's name when one is near.
 */
export function unknownSettings(
  env: Record<string, string | undefined>,
  known: readonly string[],
): string[] {
  const names = new Set(known);
  return Object.keys(env)
    .filter((name) => name.startsWith("SSE_") && !names.has(name))
    .sort()
    .map((name) => {
      const near = closest(name, known);
      return near === undefined ? name : `${name} (did you mean ${near}?)`;
    });
}

function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4; // at most three edits away
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, substitution);
    }
    previous = row;
  }
  return previous[b.length];
}
