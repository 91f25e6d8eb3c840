/** A URL or setting the Playwright global setup published for the tests. */
export function testEnv(
  name: "APP_URL" | "DOWN_APP_URL" | "MEMORY_APP_URL" | "TEST_REDIS_URL" | "APP_PID",
): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through playwright.config.ts`);
  return value;
}

let seq = 0;
/** A channel name no other test uses. */
export function uniqueChannel(prefix = "t"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}
