import { existsSync, type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { dirname, join, relative } from "node:path";

/**
 * Under `npm run dev`, an edit reaches the next request through Next.js's reload, except
 * where something made once at start keeps the old code or values: the settings and env
 * files (read once), the server itself, and the objects the process keeps for its life (the
 * broker, the stores, the stream registry, metrics). An edit there says so in the log
 * instead of seeming to apply.
 */
const RESTART_ONLY: ReadonlyArray<readonly [string, string]> = [
  ["server.ts", "the server itself"],
  ["instrumentation.ts", "it runs once at start"],
  ["lib/ops/startup.ts", "it runs once at start"],
  ["lib/config/", "settings are read once at start"],
  ["lib/broker/", "the broker is made once per process"],
  ["lib/features/presence/", "the presence store is made once per process"],
  ["lib/access/revocation/", "the revocation store is made once per process"],
  ["lib/stream/registry.ts", "the stream registry is made once per process"],
  ["lib/features/channel-reports.ts", "the stream registry is made once per process"],
  ["lib/stream/reauthorize.ts", "its timer is made once per process"],
  ["lib/ops/metrics.ts", "the metrics registry is made once per process"],
];

const ENV_FILE = /^\.env(\.(development|production|test))?(\.local)?$/;

/** Why an edit of `path` (relative to the app) needs a restart, or undefined if it does not. */
export function restartReason(path: string): string | undefined {
  const file = path.replaceAll("\\", "/");
  if (ENV_FILE.test(file)) return "settings are read once at start";
  if (file.endsWith(".test.ts")) return undefined;
  return RESTART_ONLY.find(
    ([prefix]) => file === prefix || (prefix.endsWith("/") && file.startsWith(prefix)),
  )?.[1];
}

/**
 * Watches the app folder and the folders of restart-only modules (not recursively: no
 * watch on node_modules or .next) and logs one line per edit. Returns a function that stops.
 */
export function noticeRestartOnlyEdits(dir: string, log = console.warn): () => void {
  const folders = new Set<string>([dir]);
  for (const [prefix] of RESTART_ONLY) {
    const path = join(dir, prefix);
    if (!existsSync(path)) continue;
    folders.add(prefix.endsWith("/") ? path : dirname(path));
    if (prefix.endsWith("/")) {
      for (const entry of readdirSync(path)) {
        if (statSync(join(path, entry)).isDirectory()) folders.add(join(path, entry));
      }
    }
  }
  const said = new Map<string, number>();
  const watchers: FSWatcher[] = [];
  for (const folder of folders) {
    try {
      const watcher = watch(folder, (_event, name) => {
        if (name === null) return;
        const file = relative(dir, join(folder, name.toString()));
        const why = restartReason(file);
        // An editor's save is several events: one line per file a second.
        if (why === undefined || Date.now() - (said.get(file) ?? 0) < 1000) return;
        said.set(file, Date.now());
        log(
          `[next-sse] ${file} changed: ${why}, so the change applies after a restart of npm run dev`,
        );
      });
      watcher.on("error", () => {});
      watchers.push(watcher);
    } catch {
      // A folder that cannot be watched: its edits go unannounced, nothing else changes.
    }
  }
  return () => {
    for (const watcher of watchers) watcher.close();
  };
}
