import type { UIMessageChunk } from "ai";
import { Redis } from "ioredis";
import { createResumableStreamContext } from "resumable-stream/ioredis";
import { createAnswers } from "@/lib/ai";
import { RedisBroker } from "@/lib/broker/redis";

// The two systems `npm run bench:ai` compares, behind one shape: next-sse's answers and
// vercel/resumable-stream (the AI SDK docs' choice), each on its own Redis connections.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type System = "next-sse" | "resumable-stream";

/** How one system is asked and resumed. */
export interface Harness {
  /** Starts an answer over `chunks`; the asker's stream of SSE text (bytes or strings). */
  ask(
    id: string,
    chunks: ReadableStream<UIMessageChunk>,
  ): Promise<ReadableStream<Uint8Array | string>>;
  resume(id: string): Promise<ReadableStream<Uint8Array | string>>;
  /** Until the answers are kept for good (a viewer may have its end before Redis does). */
  settled(ids: string[]): Promise<void>;
  close(): Promise<void>;
}

export function harness(system: System, url: string): Harness {
  if (system === "next-sse") {
    const broker = new RedisBroker({ url, timeoutMs: 5000 });
    const answers = createAnswers(broker);
    return {
      ask: async (id, chunks) =>
        (await answers.start(id, () => chunks)).body as ReadableStream<Uint8Array>,
      resume: async (id) => (await answers.resume(id)).body as ReadableStream<Uint8Array>,
      settled: async (ids) => {
        for (const id of ids) {
          while ((await answers.active(id)) !== null) await sleep(20);
        }
      },
      close: () => broker.close(),
    };
  }
  const publisher = new Redis(url);
  const subscriber = new Redis(url);
  const context = createResumableStreamContext({ waitUntil: null, publisher, subscriber });
  const sse = (chunks: ReadableStream<UIMessageChunk>) =>
    chunks.pipeThrough(
      new TransformStream<UIMessageChunk, string>({
        transform: (chunk, out) => out.enqueue(`data: ${JSON.stringify(chunk)}\n\n`),
        flush: (out) => out.enqueue("data: [DONE]\n\n"),
      }),
    );
  return {
    ask: async (id, chunks) =>
      (await context.createNewResumableStream(id, () => sse(chunks))) as ReadableStream<string>,
    resume: async (id) => (await context.resumeExistingStream(id)) as ReadableStream<string>,
    settled: async () => {},
    close: async () => {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
