import "server-only";
import { type ConfigError, getConfig } from "@/lib/server/config";
import { registerNodeStreamHost } from "@/lib/server/stream/node-host";

/**
 * Runs once when a server starts (from `instrumentation.ts`): validates next-sse's settings,
 * so a typo in an environment variable stops it with a message naming the variable (exit
 * code 1) instead of failing requests later, and registers the Node stream host that the
 * production server routes `/stream` to.
 */
export function startNextSse(): void {
  try {
    getConfig();
  } catch (error) {
    if ((error as { name?: unknown }).name !== "ConfigError") throw error;
    console.error(`[next-sse] ${(error as ConfigError).message}`);
    process.exit(1);
  }
  registerNodeStreamHost();
}
