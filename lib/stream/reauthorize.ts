import "server-only";
import { singleton } from "@/lib/ops/singleton";

/**
 * Access that no token's `exp` bounds (a cookie or session an app rule checked) is checked
 * again on a cadence, so a logout or a revoked session ends its streams. One check per
 * distinct (rule, identity) per round, however many streams share it: ten thousand tabs of
 * one user cost one policy call, not ten thousand.
 */
export interface AccessRecheck {
  /**
   * The rule and the identity it saw (channels, cookie, authorization): streams with the
   * same key share one call. Held in memory only; never logged.
   */
  key: string;
  /** Runs the rule again: returns (or resolves) to allow, throws (or rejects) to refuse. */
  check(): unknown;
  /** Ends the stream: the rule now refuses. */
  end(): void;
}

interface Rechecks {
  entries: Set<AccessRecheck>;
  timer: NodeJS.Timeout | undefined;
  everyMs: number;
  running: boolean;
}

const rechecks = () =>
  singleton<Rechecks>("access-rechecks", () => ({
    entries: new Set(),
    timer: undefined,
    everyMs: 0,
    running: false,
  }));

/** Checks `recheck` every `everyMs` until the returned function is called (the stream closed). */
export function watchAccess(recheck: AccessRecheck, everyMs: number): () => void {
  const state = rechecks();
  state.entries.add(recheck);
  if (state.timer === undefined || state.everyMs !== everyMs) {
    clearInterval(state.timer);
    state.everyMs = everyMs;
    state.timer = setInterval(() => void recheckAccess(), everyMs);
    state.timer.unref();
  }
  return () => {
    state.entries.delete(recheck);
    if (state.entries.size > 0) return;
    clearInterval(state.timer);
    state.timer = undefined;
  };
}

/** What one round did: policy calls made, streams ended. */
export interface RecheckRound {
  calls: number;
  ended: number;
}

/** Whether a rule's error is a refusal (ends streams) rather than a failure to decide. */
function isRefusal(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  return status === 400 || status === 401 || status === 403 || status === 404;
}

/**
 * One round: each distinct key's rule once; its streams end when it refuses. A rule that
 * fails to decide (an outage: 5xx, a network error) ends nothing: the next round asks again.
 */
export async function recheckAccess(): Promise<RecheckRound> {
  const state = rechecks();
  const round: RecheckRound = { calls: 0, ended: 0 };
  if (state.running) return round;
  state.running = true;
  try {
    const byKey = new Map<string, AccessRecheck[]>();
    for (const entry of state.entries) {
      const group = byKey.get(entry.key);
      if (group === undefined) byKey.set(entry.key, [entry]);
      else group.push(entry);
    }
    await Promise.all(
      [...byKey.values()].map(async (group) => {
        round.calls++;
        try {
          await group[0].check();
        } catch (error) {
          if (!isRefusal(error)) {
            logUndecided(error);
            return;
          }
          for (const entry of group) {
            state.entries.delete(entry);
            entry.end();
            round.ended++;
          }
        }
      }),
    );
  } finally {
    state.running = false;
  }
  return round;
}

function logUndecided(error: unknown): void {
  const log = singleton("recheck-log", () => ({ at: 0 }));
  // Once a minute at most: an outage would otherwise log once per identity per round.
  if (Date.now() - log.at < 60_000) return;
  log.at = Date.now();
  const name = (error as { name?: unknown } | null)?.name;
  console.warn(
    `[next-sse] re-authorizing streams failed (${typeof name === "string" ? name : "error"}): they stay open until a rule refuses`,
  );
}
