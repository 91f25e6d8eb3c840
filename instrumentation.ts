/**
 * Runs once when a Next.js server starts: validate next-sse's settings now, so a typo in
 * an environment variable stops the server with a message naming it, instead of failing
 * requests later.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { ConfigError, getConfig } = await import("@/lib/server/config");
  try {
    getConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`[next-sse] ${error.message}`);
    process.exit(1);
  }
}
