import "server-only";
import { singleton } from "@/lib/ops/singleton";

/** Per-process running totals that request paths bump; metrics read them. */
export interface RequestCounters {
  published: number;
  brokerRecoveries: number;
  /** Refused requests by error code. */
  rejected: Map<string, number>;
}

/** The process's request counters (mutable: bump them with `++`). */
export function requestCounters(): RequestCounters {
  return singleton<RequestCounters>("request-counters", () => ({
    published: 0,
    brokerRecoveries: 0,
    rejected: new Map(),
  }));
}

/** Counts a refused request by its error code (e.g. `invalid_channel`, `token_required`). */
export function countRejected(code: string): void {
  const { rejected } = requestCounters();
  rejected.set(code, (rejected.get(code) ?? 0) + 1);
}
