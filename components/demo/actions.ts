"use server";

import { cookies, headers } from "next/headers";
import { PRIVATE_DEMO_CHANNEL } from "@/components/demo/channels";
import { authorizeDemoPublish, mintDemoToken, requireDemo } from "@/components/demo/fences";
import { limitRate } from "@/lib/access/rate-limit";
import { disconnect } from "@/lib/access/revocation";
import { mintSession, readSession, SESSION_COOKIE, SESSION_SUB } from "@/lib/access/sessions";
import { getConfig } from "@/lib/config";
import { publish } from "@/lib/features/publish";

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

/**
 * The sign-in recipe's login, for the demo: any name that a `user-<name>` channel allows
 * becomes the session's user (an app checks a password or an identity provider here). A
 * public endpoint: demo only, the name validated, within the demo's rate limit.
 */
export async function signIn(form: FormData): Promise<{ error: string } | undefined> {
  try {
    requireDemo();
    limitRate(await headers(), "demo-sign-in", getConfig().demoPublishPerMinute);
    const name = String(form.get("name") ?? "")
      .trim()
      .toLowerCase();
    if (!SESSION_SUB.test(name)) return { error: "a name of 1 to 32 of a-z, 0-9 and -" };
    (await cookies()).set(SESSION_COOKIE, mintSession(name), {
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      maxAge: 86_400,
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * The sign-in recipe's logout: the cookie goes, and `disconnect({ sub })` ends that user's
 * open streams on every instance at once (and refuses the old cookie from now on). A public
 * endpoint: demo only, within the demo's rate limit; it can end only the caller's own
 * session (the one its signed cookie names).
 */
export async function signOut(): Promise<void> {
  requireDemo();
  limitRate(await headers(), "demo-sign-in", getConfig().demoPublishPerMinute);
  const jar = await cookies();
  const session = await readSession(jar.get(SESSION_COOKIE)?.value);
  jar.delete(SESSION_COOKIE);
  if (session !== undefined) await disconnect({ sub: session.sub });
}
