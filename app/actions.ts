"use server";

import { publish } from "@/lib/server/publish";
import { PRIVATE_DEMO_CHANNEL } from "@/lib/sse/demo";

/** The private channel demo's publisher: a Server Action, so no token reaches the browser. */
export async function sendPrivateGreeting(): Promise<{ receivers: number }> {
  const receivers = await publish(
    { message: "Hello, private channel!" },
    { type: "greeting", channel: PRIVATE_DEMO_CHANNEL },
  );
  return { receivers };
}
