/**
 * Process-wide state, in one place. Next.js bundles route handlers, Server Actions and
 * `instrumentation.ts` separately, and `next dev` reloads modules: a module-level Map would
 * exist once per bundle and per reload. State kept here lives on `globalThis`, so every copy
 * of a module shares one broker, one registry and one set of counters.
 */

const STORE = Symbol.for("next-sse.singletons");
type Holder = { [STORE]?: Map<string, unknown> };

function store(): Map<string, unknown> {
  const holder = globalThis as Holder;
  holder[STORE] ??= new Map();
  return holder[STORE];
}

/** The process's one value for `key`, made by `create` on first use. */
export function singleton<T>(key: string, create: () => T): T {
  const values = store();
  if (values.has(key)) return values.get(key) as T;
  const value = create();
  values.set(key, value);
  return value;
}

/** Forgets singletons (all, or those named), so tests can start from a clean process state. */
export function resetSingletons(...keys: string[]): void {
  const values = store();
  if (keys.length === 0) values.clear();
  for (const key of keys) values.delete(key);
}
