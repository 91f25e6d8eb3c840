/**
 * Which channels of a refused stream the server refuses on their own: one `HEAD` per
 * channel (the server authorizes a HEAD as it would the stream, and sends no body), with
 * the page's cookies and, for token-bearing channels, a token for that channel. A channel
 * whose probe fails for another reason (the network) counts as refused: it is set apart,
 * where its own connection finds out.
 */
export async function probeRefused(
  url: string,
  channels: readonly string[],
  fetchFn: typeof fetch,
  token?: (channels: readonly string[]) => Promise<string | null>,
): Promise<string[]> {
  const [path, query = ""] = url.split("?");
  const refused = await Promise.all(
    channels.map(async (channel) => {
      const params = new URLSearchParams(query);
      params.delete("channel");
      params.append("channel", channel);
      const headers: Record<string, string> = { Accept: "text/event-stream" };
      try {
        const bearer = token === undefined ? null : await token([channel]);
        if (bearer) headers.Authorization = `Bearer ${bearer}`;
        const response = await fetchFn(`${path}?${params}`, {
          method: "HEAD",
          headers,
          cache: "no-store",
          credentials: "same-origin",
        });
        return isRefusal(response.status) ? channel : undefined;
      } catch {
        return channel;
      }
    }),
  );
  return refused.filter((channel) => channel !== undefined);
}

/** A refusal for good (not a rate limit or a timeout, which the stream retries). */
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
