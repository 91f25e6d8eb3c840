import "server-only";
import { ConfigError, getConfig } from "@/lib/server/config";

/**
 * Validates next-sse's settings when a server starts, so a typo in an environment variable
 * stops it with a message naming the variable (exit code 1) instead of failing requests later.
 */
export function validateSettingsOrExit(): void {
  try {
    getConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`[next-sse] ${error.message}`);
    process.exit(1);
  }
}
