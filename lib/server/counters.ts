import "server-only";

/** Per-process running totals that request paths bump with a plain `++`; metrics read them. */
export const requestCounters = {
  published: 0,
  brokerRecoveries: 0,
  rejected: new Map<string, number>(),
};

/** Counts a refused request by its error code (e.g. `invalid_channel`, `token_required`). */
export function countRejected(code: string): void {
  requestCounters.rejected.set(code, (requestCounters.rejected.get(code) ?? 0) + 1);
}
