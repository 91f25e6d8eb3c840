import "server-only";
import cluster from "node:cluster";
import { getCatalog } from "@/lib/catalog";
import { getConfig, type SseConfig, warnAboutUnknownSettings } from "@/lib/config";
import { loadEnvFiles } from "@/lib/config/env-files";
import { registerNodeStreamAdapter } from "@/lib/transport/node-adapter";

/**
 * Runs once when a server starts (from `instrumentation.ts`): validates next-sse's settings
 * and the app's channel declarations, so a typo in an environment variable or a bad
 * declaration stops it with a message naming the variable or the pattern (exit code 1) instead of failing requests later, and registers the Node stream adapter that the
 * production server routes `/stream` to.
 */
export function startNextSse(): void {
  try {
    // Loaded by Next.js already (or by server.ts): this checks their lines and notes where
    // each setting came from, for the error that names it.
    loadEnvFiles(process.cwd(), process.env.NODE_ENV !== "production");
    getConfig();
    // The app's channel declarations (`lib/channels.ts`): a bad one stops the server here.
    getCatalog().check();
  } catch (error) {
    const { name, message } = error as { name?: unknown; message?: string };
    if (name !== "ConfigError" && name !== "ChannelDeclarationError") throw error;
    console.error(`[next-sse] ${message}`);
    process.exit(1);
  }
  if (cluster.isPrimary) warnAboutUnknownSettings();
  registerNodeStreamAdapter();
  warnAboutUnsafeSettings(getConfig());
}

/**
 * One line at start, in production, for each setting still unsafe: the server starts all
 * the same (a clone must run as it is), but the log says what to set before going live.
 */
export function warnAboutUnsafeSettings(config: SseConfig, env = process.env.NODE_ENV): string[] {
  if (env !== "production") return [];
  const warnings: string[] = [];
  if (config.demo) {
    warnings.push(
      "SSE_DEMO is on: /hello, the playground and their Server Actions publish without a token (set SSE_DEMO=off)",
    );
  }
  if (config.secret === undefined) {
    warnings.push(
      "SSE_SECRET is not set: channel tokens use a random key of this process (set one, the same on every instance)",
    );
  }
  if (config.metricsToken === undefined) {
    warnings.push("SSE_METRICS_TOKEN is not set: /api/metrics is open to anyone");
  }
  if (config.trustProxy === 0) {
    warnings.push(
      "SSE_TRUST_PROXY is 0: each client is the address it connects from, so behind a proxy of yours every client is the proxy, one client for SSE_MAX_STREAMS_PER_CLIENT (set SSE_TRUST_PROXY=1 there)",
    );
  }
  if (config.corsOrigins.includes("*")) {
    warnings.push("SSE_CORS_ORIGINS=* lets any site read public streams (without cookies)");
  }
  for (const warning of warnings) console.warn(`[next-sse] unsafe setting: ${warning}`);
  return warnings;
}
