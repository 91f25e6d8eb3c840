import "server-only";
import { mintChannelToken } from "@/lib/access/tokens";

/** A token for a signed-in user's own channels (server code: a page, a route, an action). */
export function userToken(userId: string, teamId: string): string {
  const token = mintChannelToken([`private-user-${userId}`], {
    prefixes: [`private-team-${teamId}-`], // every channel starting with it (only through this option)
    subject: `user-${userId}`, // `sub`: who holds the stream
  });
  // browser: useEventSource("/stream?channel=private-user-42", { getToken: () => token })
  //          (an Authorization: Bearer header), or the `sse_token` cookie, or ?token=
  return token;
}
