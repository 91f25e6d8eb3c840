/**
 * Runs once when a Next.js server starts (`npm start`, `next start`, `next dev`): validate
 * next-sse's settings and register the Node stream adapter. The import sits behind the runtime
 * check so the Edge build leaves it out (it uses Node.js APIs).
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { startNextSse } = await import("@/lib/ops/startup");
    startNextSse();
  }
}
