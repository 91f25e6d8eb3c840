import "server-only";

const PREFIX = "[next-sse]";

/** Logs an operational message once per distinct text in a row, so reconnect loops do not flood. */
export function createLogger() {
  let last = "";
  return {
    info(message: string): void {
      console.info(`${PREFIX} ${message}`);
    },
    warn(message: string): void {
      if (message === last) return;
      last = message;
      console.warn(`${PREFIX} ${message}`);
    },
    /** Forget the last warning, so the next one is printed even if it repeats. */
    reset(): void {
      last = "";
    },
  };
}
