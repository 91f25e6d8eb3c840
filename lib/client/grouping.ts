import type { WantedChannels } from "@/lib/client/protocol";

import { DEFAULT_MAX_CHANNELS_PER_STREAM as DEFAULT_MAX_CHANNELS } from "@/lib/sse/channel";

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
 * channels), grouped by the access they need, so one group's refusal cuts no other: public
 * channels of a URL together, each app-defined access group (`access: "session"`) apart,
 * each token-bearing set apart, and each `isolated` channel (`url\nchannel`: one the server
 * refused in company) alone; each split into chunks of the smallest channels-per-stream
 * limit any client reports. Pure.
 */
export function groupStreams(
  clients: Iterable<ClientWants>,
  isolated: ReadonlySet<string> = new Set(),
): Map<string, WantedStream> {
  // `kind\nurl` -> channels; kinds: "public", "access:<name>", "auth:<sorted channels>".
  const groups = new Map<string, { url: string; auth: boolean; channels: Set<string> }>();
  const solos = new Map<string, WantedStream>();
  let maxChannels = DEFAULT_MAX_CHANNELS;
  for (const client of clients) {
    maxChannels = Math.min(maxChannels, client.maxChannels || DEFAULT_MAX_CHANNELS);
    for (const [url, { wanted }] of client.urls) {
      for (const want of wanted) {
        const channels = [...new Set(want.channels)].sort();
        const kind = want.auth
          ? `auth:${channels.join("\n")}`
          : want.access
            ? `access:${want.access}`
            : "public";
        const key = `${kind}\n${url}`;
        const group = groups.get(key) ?? { url, auth: want.auth, channels: new Set<string>() };
        groups.set(key, group);
        for (const channel of channels) {
          if (isolated.has(`${url}\n${channel}`)) {
            const solo = `solo${want.auth ? "-auth" : ""}\n${url}\n${channel}`;
            solos.set(solo, { url, channels: [channel], auth: want.auth });
          } else group.channels.add(channel);
        }
      }
    }
  }
  const out = new Map<string, WantedStream>();
  // Public streams first, then access groups, then token-bearing ones.
  const rank = (key: string) => (key.startsWith("public") ? 0 : key.startsWith("access") ? 1 : 2);
  const ordered = [...groups].sort(([a], [b]) => rank(a) - rank(b));
  for (const [key, { url, auth, channels }] of ordered) {
    const sorted = [...channels].sort();
    const kind = key.slice(0, key.lastIndexOf("\n"));
    for (let i = 0; i < sorted.length; i += maxChannels) {
      const chunk = sorted.slice(i, i + maxChannels);
      out.set(`${auth ? "auth" : kind}\n${url}\n${chunk.join("\n")}`, {
        url,
        channels: chunk,
        auth,
      });
    }
  }
  for (const [key, stream] of solos) out.set(key, stream);
  return out;
}
