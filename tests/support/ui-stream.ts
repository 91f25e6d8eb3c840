/** The AI SDK's UI message stream, as a test reads it: its chunks, until `[DONE]`. */
export interface UiChunk {
  type: string;
  delta?: string;
  errorText?: string;
}

export interface ReadUiStream {
  chunks: UiChunk[];
  /** `[DONE]` arrived. */
  done: boolean;
}

/** Reads a UI message stream; `until` may stop early (the connection is then closed). */
export async function readUiStream(
  response: Response,
  until?: (chunks: UiChunk[]) => boolean,
): Promise<ReadUiStream> {
  if (response.body === null) throw new Error(`no body (status ${response.status})`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const chunks: UiChunk[] = [];
  let text = "";
  let done = false;
  while (!done) {
    const read = await reader.read();
    if (read.done) break;
    text += decoder.decode(read.value, { stream: true });
    let end = text.indexOf("\n\n");
    while (end >= 0) {
      const data = text.slice("data: ".length, end);
      text = text.slice(end + 2);
      if (data === "[DONE]") done = true;
      else chunks.push(JSON.parse(data) as UiChunk);
      end = text.indexOf("\n\n");
    }
    if (!done && until?.(chunks)) {
      await reader.cancel();
      break;
    }
  }
  return { chunks, done };
}

/** The numbers of the mock model's tokens (`answers12 `) in a text, in order. */
export function tokenNumbers(text: string): number[] {
  return [...text.matchAll(/[A-Za-z]+(\d+) /g)].map((match) => Number(match[1]));
}

/** The text deltas of a stream. */
export function deltaText(chunks: UiChunk[]): string {
  return chunks.map((chunk) => (chunk.type === "text-delta" ? (chunk.delta ?? "") : "")).join("");
}

/** 1..n */
export function upTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Asks the demo chat (`POST /api/chat`, as useChat does) and answers its response. */
export function askChat(base: string, chatId: string, text = "hello"): Promise<Response> {
  return fetch(`${base}/api/chat`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      id: chatId,
      trigger: "submit-message",
      messages: [{ id: `u-${chatId}`, role: "user", parts: [{ type: "text", text }] }],
    }),
  });
}
