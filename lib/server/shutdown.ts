import "server-only";

const GLOBAL_KEY = Symbol.for("next-sse.shutdown");
type ShutdownHolder = { [GLOBAL_KEY]?: { installed: boolean; draining: boolean } };

function state() {
  const holder = globalThis as ShutdownHolder;
  holder[GLOBAL_KEY] ??= { installed: false, draining: false };
  return holder[GLOBAL_KEY];
}

/** True once SIGTERM or SIGINT arrived: new streams are refused, open ones are being ended. */
export function isDraining(): boolean {
  return state().draining;
}

/**
 * On SIGTERM (or SIGINT): refuse new streams, end the open ones with `retry: 0` so browsers
 * reconnect to another instance at once (and resume), and exit within `timeoutMs` even if a
 * client never lets go. Next.js on its own waits for every open stream, that is, forever.
 * Installed once per process, when the first stream opens.
 */
export function installShutdown(endAllStreams: () => void, timeoutMs: number): void {
  const s = state();
  if (s.installed) return;
  s.installed = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (s.draining) return;
    s.draining = true;
    console.info(`[next-sse] ${signal}: ending open streams, exiting within ${timeoutMs} ms`);
    endAllStreams();
    setTimeout(() => process.exit(signal === "SIGINT" ? 130 : 143), timeoutMs).unref();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}
