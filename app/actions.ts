"use server";

import { headers } from "next/headers";
import { authorizeDemoPublish, mintDemoToken } from "@/lib/server/demo";
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
    await authorizeDemoPublish(
      await headers(),
      PRIVATE_DEMO_CHANNEL,
      [PRIVATE_DEMO_CHANNEL],
      token,
    );
    const receivers = await publish(
      { message: "Hello, private channel!" },
      { type: "greeting", channel: PRIVATE_DEMO_CHANNEL },
    );
    return { receivers };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * A fresh token for a demo page's private channel, for the stream client's `getToken` when
 * the page's token expired. A public endpoint: it mints only what the page's own render
 * mints for anyone (one demo channel), within the demo's rate limit.
 */
export async function refreshDemoToken(channel: string): Promise<string | null> {
  try {
    return mintDemoToken(await headers(), String(channel));
  } catch {
    return null;
  }
}
