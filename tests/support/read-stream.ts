/** Reads a byte stream chunk by chunk as text, for tests that check exact framing. */
export function textReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  return {
    reader,
    /** The next chunk as text, or null at the end of the stream. */
    async next(): Promise<string | null> {
      const { done, value } = await reader.read();
      return done ? null : decoder.decode(value);
    },
  };
}
