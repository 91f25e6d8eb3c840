// Stands in for `server-only` under Vitest, which runs lib/server in plain Node.
export {};
