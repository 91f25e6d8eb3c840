import { expect, test } from "@playwright/test";
import { startNextServer } from "../support/next-server";

test("an invalid setting stops the server at start, naming the variable", async () => {
  const started = startNextServer({ SSE_HEARTBEAT_MS: "soon", SSE_REDIS_URL: "http://nope" });
  await expect(started).rejects.toThrow(
    /invalid next-sse settings: SSE_REDIS_URL: .*SSE_HEARTBEAT_MS/,
  );
});
