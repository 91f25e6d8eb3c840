import { createUIMessageStreamResponse, type UIMessageChunk } from "ai";
import { Redis } from "ioredis";
import { createResumableStreamContext } from "resumable-stream/ioredis";
import { createAnswers } from "@/lib/ai";
import { RedisBroker } from "@/lib/broker/redis";

// The two systems `npm run bench:ai` compares, each as the routes its docs show use it and
// on its own Redis connections: next-sse's answers (`getAnswers().start` and `resume`),
// and vercel/resumable-stream behind the AI SDK's response (the AI SDK docs' choice).

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
  // As the AI SDK docs' routes use it: the POST answers with `toUIMessageStreamResponse`
  // (UI chunks as SSE text, encoded to bytes), and its `consumeSseStream` hands a tee of
  // that text to `createNewResumableStream`; the GET answers with `resumeExistingStream`'s
  // text, encoded as a Response body is.
  return {
    ask: async (id, chunks) => {
      let kept: Promise<unknown> = Promise.resolve();
      const response = createUIMessageStreamResponse({
        stream: chunks,
        consumeSseStream: ({ stream }) => {
          kept = context.createNewResumableStream(id, () => stream);
        },
      });
      await kept;
      return response.body as ReadableStream<Uint8Array>;
    },
    resume: async (id) => {
      const text = (await context.resumeExistingStream(id)) as ReadableStream<string>;
      return text.pipeThrough(new TextEncoderStream());
    },
    // Its end is written after the last chunk went out (the sentinel set to DONE).
    settled: async (ids) => {
      for (const id of ids) {
        while ((await publisher.get(`resumable-stream:rs:sentinel:${id}`)) !== "DONE") {
          await sleep(20);
        }
      }
    },
    close: async () => {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
