// Stands in for `server-only` under Vitest, which runs the server modules of lib/ in plain Node.
export {};
