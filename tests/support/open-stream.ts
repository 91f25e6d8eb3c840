import { handleStreamRequest, type StreamOptions } from "@/lib/stream/handle-request";
import { toWebResponse } from "@/lib/transport/sinks";

/**
 * A stream through the one entry point every server uses, as a route handler sees it:
 * `handleStreamRequest` with a Request for the channels, then the web sink.
 */
export async function openEventStream(
  options: Partial<StreamOptions> & {
    channels: string[];
    signal: AbortSignal;
    lastEventId?: string;
  },
): Promise<ReadableStream<Uint8Array>> {
  const { channels, signal, lastEventId, ...overrides } = options;
  const url = new URL("http://localhost/stream");
  for (const channel of channels) url.searchParams.append("channel", channel);
  const headers: Record<string, string> = lastEventId ? { "Last-Event-ID": lastEventId } : {};
  const request = new Request(url, { headers });
  const response = toWebResponse(await handleStreamRequest(request, signal, overrides));
  if (response.status !== 200 || response.body === null) {
    throw Object.assign(new Error(`stream answered ${response.status}`), {
      status: response.status,
      body: await response.json(),
    });
  }
  return response.body;
}
