/**
 * Runs once when a Next.js server starts: validate next-sse's settings now. The import sits
 * behind the runtime check so the Edge build leaves it out (it uses Node.js APIs).
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { validateSettingsOrExit } = await import("@/lib/server/startup");
    validateSettingsOrExit();
  }
}
