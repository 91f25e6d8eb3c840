import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestExit } from "./on-exit";

const ROOT = join(__dirname, "..", "..");

/**
 * What a person has after cloning: `source` is the project as committed (for `npm run
 * dev`), `built` the project after `npm run build` (for `npm start`), `standalone` the
 * deploy folder alone. Each is a real copy in a temp folder, so an env file or an edit
 * there touches no other test's server; node_modules is hard-linked (never written).
 */
export type AppCopyKind = "source" | "built" | "standalone";

const SKIPPED_IN_SOURCE = new Set([
  "node_modules",
  ".next",
  ".git",
  "dist",
  "test-results",
  "playwright-report",
]);

export interface AppCopy {
  dir: string;
  /** Writes a file of the copy (an env file, an edited module). */
  write(path: string, text: string): void;
  read(path: string): string;
  remove(): void;
}

export function copyApp(kind: AppCopyKind): AppCopy {
  const dir = mkdtempSync(join(tmpdir(), `next-sse-${kind}-`));
  if (kind === "standalone") {
    cpSync(join(ROOT, ".next", "standalone"), dir, { recursive: true });
  } else {
    for (const entry of readdirSync(ROOT)) {
      if (SKIPPED_IN_SOURCE.has(entry) || entry.startsWith(".env")) continue;
      if (kind === "built" && !["public", "package.json", "next.config.js"].includes(entry)) {
        continue;
      }
      cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
    }
    if (kind === "built") {
      cpSync(join(ROOT, "dist"), join(dir, "dist"), { recursive: true });
      cpSync(join(ROOT, ".next"), join(dir, ".next"), {
        recursive: true,
        filter: (from) => !/[/\\]\.next[/\\](cache|standalone)$/.test(from),
      });
    }
    // Hard links: Turbopack compiles nothing outside the project folder, so no symlink.
    execFileSync("cp", ["-al", join(ROOT, "node_modules"), join(dir, "node_modules")]);
  }
  const remove = onTestExit(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write: (path, text) => writeFileSync(join(dir, path), text),
    read: (path) => readFileSync(join(dir, path), "utf8"),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      remove();
    },
  };
}

/** A process a person started in a copy (`npm start`, `npm run dev`, `node server.js`). */
export interface PersonProcess {
  pid: number;
  output(): string;
  /** Resolves when the output matches (rejects if the process exits first, or at timeout). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  /** SIGKILLs the whole group: cleanup after a failed test. */
  kill(): void;
}

/**
 * Runs `command` in `dir` as a person would from a shell: no next-sse setting in its
 * environment (only PATH and HOME), so every setting comes from the copy's env files.
 */
export function runAsPerson(
  dir: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): PersonProcess {
  const child: ChildProcess = spawn(command, args, {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      NEXT_TELEMETRY_DISABLED: "1",
      ...env,
    } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const kill = () => {
    try {
      process.kill(-(child.pid ?? 0), "SIGKILL");
    } catch {
      // already gone
    }
  };
  const forget = onTestExit(kill);
  void exited.then(forget);
  return {
    pid: child.pid ?? 0,
    output: () => output,
    exited,
    kill,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${command} ${args.join(" ")}: no ${pattern} in:\n${output}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        void exited.then((code) => {
          if (!listeners.has(check)) return;
          done();
          reject(new Error(`${command} exited (${code}) before ${pattern}:\n${output}`));
        });
        listeners.add(check);
        check();
      });
    },
  };
}

/** Every descendant of `pid` alive now (from /proc), children first. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may hold spaces: fields start after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const child of parents.get(parent) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
