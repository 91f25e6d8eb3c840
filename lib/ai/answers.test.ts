import type { UIMessageChunk } from "ai";
import { afterAll, describe, expect, it } from "vitest";
import { createAnswers, createResumableStreamContext } from "@/lib/ai";
import { answerChannel, chunksBody } from "@/lib/ai/answer-channel";
import { createAnswerStore } from "@/lib/ai/answer-store";
import type { Broker } from "@/lib/broker/types";
import { BROKERS, HISTORY } from "@/tests/support/broker-contract";
import { deltaText, readUiStream, type UiChunk } from "@/tests/support/ui-stream";

const makeRedis = () => BROKERS[1][1](HISTORY)();

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

const deltas = (chunks: UiChunk[]) => deltaText(chunks);
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
    const early = await readUiStream(
      first,
      (c) => c.filter((x) => x.type === "text-delta").length >= 10,
    );
    expect(early.done).toBe(false);
    expect(model.aborted()).toBe(false);
    model.tokens(21, 40);
    const resumed = readUiStream(await answers.resume(id));
    const second = readUiStream(await answers.resume(id));
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
    const viewer = readUiStream(await answers.start(id, model.make));
    model.tokens(1, 5);
    const other = readUiStream(await answers.resume(id));
    expect(await answers.stop(id)).toBe(true);
    await expect.poll(() => model.aborted()).toBe(true);
    for (const view of await Promise.all([viewer, other])) {
      expect(view.done).toBe(true);
      expect(deltas(view.chunks)).toBe(words(1, 5));
      expect(view.chunks.at(-1)).toEqual({ type: "abort" });
    }
    // Its viewers here end at once; the chat's active answer is cleared once it is written.
    await expect.poll(() => answers.active(id)).toBeNull();
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
      const viewer = readUiStream(await answers.start(id, model.make));
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

  it("viewers where the answer runs read it from memory: tokens reach them before Redis has them", async () => {
    const id = chat();
    const model = generation();
    const quiet = createAnswers(broker, { storeMs: 60_000 });
    const publish = broker.publish.bind(broker);
    const written: string[] = [];
    broker.publish = (channel, event) => {
      written.push(channel);
      return publish(channel, event);
    };
    try {
      const asker = await quiet.start(id, model.make);
      // This answer's writes (another test's answer may still be writing its end).
      const channel = answerChannel((await quiet.active(id)) ?? "");
      const writes = () => written.filter((c) => c === channel).length;
      model.tokens(1, 10);
      const early = await readUiStream(
        asker,
        (c) => c.filter((x) => x.type === "text-delta").length >= 10,
      );
      expect(deltas(early.chunks)).toBe(words(1, 10));
      // A reload on this instance too, from the first chunk.
      const reload = readUiStream(await quiet.resume(id));
      expect(writes()).toBe(0);
      model.tokens(11, 20);
      model.finish();
      expect(deltas((await reload).chunks)).toBe(words(1, 20));
      // The end writes what waited, then the end event.
      await expect.poll(writes).toBe(2);
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
    const view = await readUiStream(await createAnswers(broker, { store }).resume(id));
    expect(view.done).toBe(true);
    expect(view.chunks.at(-1)).toEqual({
      type: "error",
      errorText: "the instance running the answer stopped",
    });
    expect(Date.now() - begun).toBeLessThan(10_000);
  });
});

describe("an answer served by another instance", () => {
  const [runs, serves] = [makeRedis(), makeRedis()];
  afterAll(() => Promise.all([runs.close(), serves.close()]));

  it("is written per turn once a viewer there watches it, and that viewer gets every token once", async () => {
    const id = `elsewhere-${process.pid}-${Date.now()}`;
    const model = generation();
    // Writes a minute apart while nobody elsewhere watches: the viewer's word must hurry them.
    const here = createAnswers(runs, { storeMs: 60_000 });
    const there = createAnswers(serves);
    const asker = readUiStream(await here.start(id, model.make));
    model.tokens(1, 10);
    // Read as it comes (the hook only watches the chunks so far).
    let progress: UiChunk[] = [];
    const viewer = readUiStream(await there.resume(id), (chunks) => {
      progress = chunks;
      return false;
    });
    await expect.poll(() => deltas(progress), { timeout: 5000 }).toBe(words(1, 10));
    model.tokens(11, 30);
    model.finish();
    const [mine, theirs] = await Promise.all([asker, viewer]);
    for (const view of [mine, theirs]) {
      expect(view.done).toBe(true);
      expect(deltas(view.chunks)).toBe(words(1, 30));
      expect(view.chunks.at(-1)).toEqual({ type: "finish" });
    }
  });

  it("is followed once per instance, whatever the number of its viewers there", async () => {
    const id = `shared-${process.pid}-${Date.now()}`;
    const model = generation();
    const here = createAnswers(runs);
    const there = createAnswers(serves);
    const subscribe = serves.subscribe.bind(serves);
    const subscribed: string[] = [];
    serves.subscribe = (channel, listener) => {
      subscribed.push(channel);
      return subscribe(channel, listener);
    };
    try {
      const asker = readUiStream(await here.start(id, model.make));
      const channel = answerChannel((await here.active(id)) ?? "");
      model.tokens(1, 10);
      const viewers = [];
      for (let i = 0; i < 3; i++) viewers.push(readUiStream(await there.resume(id)));
      // One leaves early: the others go on.
      const early = await readUiStream(await there.resume(id), (c) => c.length > 0);
      expect(early.done).toBe(false);
      model.tokens(11, 20);
      model.finish();
      for (const view of await Promise.all([asker, ...viewers])) {
        expect(view.done).toBe(true);
        expect(deltas(view.chunks)).toBe(words(1, 20));
      }
      expect(subscribed.filter((c) => c === channel)).toHaveLength(1);
    } finally {
      serves.subscribe = subscribe;
    }
  });
});

describe("the resumable-stream shape", () => {
  it("keeps the SSE text the AI SDK hands over and reads it back, from its first chunk", async () => {
    const context = createResumableStreamContext({ waitUntil: null });
    const id = `compat-${Date.now()}`;
    const sse = ["start", "w1 ", "w2 "]
      .map((text, i) =>
        i === 0
          ? `data: {"type":"start"}\n\n`
          : `data: ${JSON.stringify({ type: "text-delta", id: "t", delta: text })}\n\n`,
      )
      .concat('data: {"type":"finish"}\n\n', "data: [DONE]\n\n");
    // Split mid-event, as a network would.
    const text = sse.join("");
    const made = new ReadableStream<string>({
      start(controller) {
        controller.enqueue(text.slice(0, 17));
        controller.enqueue(text.slice(17));
        controller.close();
      },
    });
    const first = await context.createNewResumableStream(id, () => made);
    const resumed = await context.resumeExistingStream(id);
    for (const stream of [first, resumed]) {
      const view = await readUiStream(new Response(stream?.pipeThrough(new TextEncoderStream())));
      expect(view.done).toBe(true);
      expect(deltas(view.chunks)).toBe("w1 w2 ");
      expect(view.chunks.at(-1)).toEqual({ type: "finish" });
    }
  });
});
