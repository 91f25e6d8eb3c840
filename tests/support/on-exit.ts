/**
 * Cleanups to run when the test process exits (servers a test never stopped, their data
 * directories), under one `exit` listener however many servers a spec starts. A cleanup
 * that is no longer needed is removed with the function this returns.
 */
const CLEANUPS = new Set<() => void>();
let installed = false;

export function onTestExit(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once("exit", () => {
      for (const run of CLEANUPS) {
        try {
          run();
        } catch {
          // already gone
        }
      }
    });
  }
  CLEANUPS.add(cleanup);
  return () => CLEANUPS.delete(cleanup);
}
