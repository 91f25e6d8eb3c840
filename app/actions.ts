"use server";

import { headers } from "next/headers";
import { authorizeDemoPublish } from "@/lib/server/demo";
import { publish } from "@/lib/server/publish";
import { PRIVATE_DEMO_CHANNEL } from "@/lib/sse/demo";

/**
 * The private channel demo's publisher: a Server Action, so no publish token reaches the
 * browser. It is a public endpoint all the same: it publishes only to the demo's private
 * channel, only with the token the page was given (verified as the stream verifies it),
 * and within the demo's rate limit.
 */
export async function sendPrivateGreeting(
  token: string,
): Promise<{ receivers: number } | { error: string }> {
  try {
    authorizeDemoPublish(await headers(), PRIVATE_DEMO_CHANNEL, [PRIVATE_DEMO_CHANNEL], token);
    const receivers = await publish(
      { message: "Hello, private channel!" },
      { type: "greeting", channel: PRIVATE_DEMO_CHANNEL },
    );
    return { receivers };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
