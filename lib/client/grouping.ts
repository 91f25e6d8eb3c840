import type { WantedChannels } from "@/lib/client/protocol";

/** SSE_MAX_CHANNELS_PER_STREAM when a client does not say. */
const DEFAULT_MAX_CHANNELS = 16;

/** What one client (tab) listens to, as the host groups it. */
export interface ClientWants {
  /** Per stream URL: the channel sets the client's components listen to. */
  urls: ReadonlyMap<string, { wanted: readonly WantedChannels[] }>;
  /** The server's channels-per-stream limit as the client knows it (0: the default). */
  maxChannels: number;
}

/** One connection the host should hold. */
export interface WantedStream {
  url: string;
  channels: string[];
  /** It carries token-bearing channels (their own connection, so a refusal cuts no other). */
  auth: boolean;
}

/**
 * The connections every client's wants add up to, by a key that names them (kind, URL,
 * channels): public channels of a URL together, each token-bearing set apart, split into
 * chunks of the smallest channels-per-stream limit any client reports. Pure.
 */
export function groupStreams(clients: Iterable<ClientWants>): Map<string, WantedStream> {
  const publicByUrl = new Map<string, Set<string>>();
  const authSets = new Map<string, { url: string; channels: string[] }>();
  let maxChannels = DEFAULT_MAX_CHANNELS;
  for (const client of clients) {
    maxChannels = Math.min(maxChannels, client.maxChannels || DEFAULT_MAX_CHANNELS);
    for (const [url, { wanted }] of client.urls) {
      for (const want of wanted) {
        if (want.auth) {
          const channels = [...new Set(want.channels)].sort();
          authSets.set(`${url}\n${channels.join("\n")}`, { url, channels });
          continue;
        }
        const set = publicByUrl.get(url) ?? new Set<string>();
        publicByUrl.set(url, set);
        for (const channel of want.channels) set.add(channel);
      }
    }
  }
  const out = new Map<string, WantedStream>();
  const addChunks = (url: string, channels: string[], auth: boolean) => {
    for (let i = 0; i < channels.length; i += maxChannels) {
      const chunk = channels.slice(i, i + maxChannels);
      out.set(`${auth ? "auth" : "public"}\n${url}\n${chunk.join("\n")}`, {
        url,
        channels: chunk,
        auth,
      });
    }
  };
  for (const [url, set] of publicByUrl) addChunks(url, [...set].sort(), false);
  for (const { url, channels } of authSets.values()) addChunks(url, channels, true);
  return out;
}
