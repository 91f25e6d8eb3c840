import type { UIMessageChunk } from "ai";
import { afterAll, describe, expect, it } from "vitest";
import { createAnswers } from "@/lib/ai";
import { answerChannel, chunksBody } from "@/lib/ai/answer-channel";
import { createAnswerStore } from "@/lib/ai/answer-store";
import type { Broker } from "@/lib/broker/types";
import { BROKERS, HISTORY } from "@/tests/support/broker-contract";

/** A generation the test drives: push chunks, end it, and see whether it was aborted. */
function generation() {
  let controller!: ReadableStreamDefaultController<UIMessageChunk>;
  const stream = new ReadableStream<UIMessageChunk>({
    start(c) {
      controller = c;
    },
  });
  let signal: AbortSignal | undefined;
  const token = (n: number): UIMessageChunk => ({ type: "text-delta", id: "t", delta: `w${n} ` });
  return {
    make: (s: AbortSignal) => {
      signal = s;
      s.addEventListener("abort", () => {
        controller.enqueue({ type: "abort" });
        controller.close();
      });
      controller.enqueue({ type: "start", messageId: "m1" });
      controller.enqueue({ type: "text-start", id: "t" });
      return stream;
    },
    tokens(from: number, to: number) {
      for (let n = from; n <= to; n++) controller.enqueue(token(n));
    },
    finish() {
      controller.enqueue({ type: "text-end", id: "t" });
      controller.enqueue({ type: "finish" });
      controller.close();
    },
    aborted: () => signal?.aborted ?? false,
  };
}

/** Reads a UI message stream response: its chunks, until [DONE] (or `until` says stop). */
async function readChunks(response: Response, until?: (chunks: UIMessageChunk[]) => boolean) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const chunks: UIMessageChunk[] = [];
  let text = "";
  let done = false;
  while (!done) {
    const read = await reader.read();
    if (read.done) break;
    text += decoder.decode(read.value, { stream: true });
    let end = text.indexOf("\n\n");
    while (end >= 0) {
      const data = text.slice(6, end);
      text = text.slice(end + 2);
      if (data === "[DONE]") done = true;
      else chunks.push(JSON.parse(data));
      end = text.indexOf("\n\n");
    }
    if (until?.(chunks)) {
      await reader.cancel();
      break;
    }
  }
  return { chunks, done };
}

const deltas = (chunks: UIMessageChunk[]) =>
  chunks.flatMap((c) => (c.type === "text-delta" ? [c.delta] : [])).join("");
const words = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `w${from + i} `).join("");

describe.each(BROKERS.slice(0, 2))("resumable answers: %s", (_name, makeBroker) => {
  const broker: Broker = makeBroker(HISTORY)();
  const answers = createAnswers(broker);
  afterAll(() => broker.close());
  const chat = () => `chat-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;

  it("the answer survives its viewers: each one gets all of it once, in order, from any moment", async () => {
    const id = chat();
    const model = generation();
    const first = await answers.start(id, model.make);
    model.tokens(1, 20);
    // The asker reloads after 10 tokens: its connection closes, the generation goes on.
    const early = await readChunks(
      first,
      (c) => c.filter((x) => x.type === "text-delta").length >= 10,
    );
    expect(early.done).toBe(false);
    expect(model.aborted()).toBe(false);
    model.tokens(21, 40);
    const resumed = readChunks(await answers.resume(id));
    const second = readChunks(await answers.resume(id));
    model.tokens(41, 60);
    model.finish();
    for (const view of await Promise.all([resumed, second])) {
      expect(view.done).toBe(true);
      expect(deltas(view.chunks)).toBe(words(1, 60));
      expect(view.chunks.at(0)).toEqual({ type: "start", messageId: "m1" });
      expect(view.chunks.at(-1)).toEqual({ type: "finish" });
    }
    // Finished: nothing is active, the GET answers 204 as the AI SDK expects.
    await expect.poll(() => answers.active(id)).toBeNull();
    expect((await answers.resume(id)).status).toBe(204);
  });

  it("stop cancels the generation and ends every viewer with an abort chunk", async () => {
    const id = chat();
    const model = generation();
    const viewer = readChunks(await answers.start(id, model.make));
    model.tokens(1, 5);
    const other = readChunks(await answers.resume(id));
    expect(await answers.stop(id)).toBe(true);
    await expect.poll(() => model.aborted()).toBe(true);
    for (const view of await Promise.all([viewer, other])) {
      expect(view.done).toBe(true);
      expect(deltas(view.chunks)).toBe(words(1, 5));
      expect(view.chunks.at(-1)).toEqual({ type: "abort" });
    }
    expect(await answers.stop(id)).toBe(false);
  });

  it("writes tokens in batches, not one write per token", async () => {
    const id = chat();
    const model = generation();
    const publish = broker.publish.bind(broker);
    let writes = 0;
    broker.publish = (channel, event) => {
      if (channel.startsWith("ai.")) writes++;
      return publish(channel, event);
    };
    try {
      const viewer = readChunks(await answers.start(id, model.make));
      model.tokens(1, 500);
      model.finish();
      const view = await viewer;
      expect(deltas(view.chunks)).toBe(words(1, 500));
      // One batch for the burst, one for its end, and the end event.
      expect(writes).toBeLessThanOrEqual(5);
    } finally {
      broker.publish = publish;
    }
  });

  it("an answer whose instance went away (no lease) ends as interrupted for its viewers", async () => {
    const id = chat();
    const answerId = `dead-${Date.now()}`;
    const store = createAnswerStore(broker, 2000);
    await store.setActive(id, answerId, 60);
    const retention = { maxLength: 1000, ttlSeconds: 60 };
    const started: UIMessageChunk[] = [{ type: "start" }, { type: "text-start", id: "t" }];
    await broker.publish(answerChannel(answerId), { body: chunksBody(started), retention });
    const begun = Date.now();
    const view = await readChunks(await createAnswers(broker, store).resume(id));
    expect(view.done).toBe(true);
    expect(view.chunks.at(-1)).toEqual({
      type: "error",
      errorText: "the instance running the answer stopped",
    });
    expect(Date.now() - begun).toBeLessThan(10_000);
  });
});
