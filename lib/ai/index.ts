import "server-only";
import { randomUUID } from "node:crypto";
import type { UIMessageChunk } from "ai";
import type { EventSourceMessage } from "eventsource-parser";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { ANSWER_ID, STOP_CHANNEL, stopBody } from "@/lib/ai/answer-channel";
import { type AnswerStore, createAnswerStore } from "@/lib/ai/answer-store";
import { runAnswer } from "@/lib/ai/runner";
import { answerResponse, viewAnswer } from "@/lib/ai/viewer";
import { type Broker, getBroker } from "@/lib/broker";
import { getConfig } from "@/lib/config";
import type { HistoryOptions } from "@/lib/history/types";
import { HttpError } from "@/lib/http";
import { createLogger } from "@/lib/ops/log";
import { singleton } from "@/lib/ops/singleton";
import { parseFrame } from "@/lib/sse/frame";

/**
 * Resumable AI answers over next-sse, for any AI SDK route: an answer runs on whichever
 * instance started it and is written to its own channel; any instance serves it, from its
 * first chunk, to as many viewers as come; the stop endpoint cancels it wherever it runs.
 */
export interface Answers {
  /**
   * Starts an answer for a chat (it becomes the chat's active one) and answers the POST
   * with its stream. `generate` gets the signal that stops it: pass it to `streamText`'s
   * `abortSignal`. The generation outlives the request: closing the connection only closes
   * this viewer.
   */
  start(
    chatId: string,
    generate: (signal: AbortSignal) => ReadableStream<UIMessageChunk>,
  ): Promise<Response>;
  /** The chat's active answer from its first chunk, then live (the GET); 204 when none. */
  resume(chatId: string): Promise<Response>;
  /** Stops the chat's active answer wherever it runs; false when none was active. */
  stop(chatId: string): Promise<boolean>;
  /** The chat's active answer id, or null. */
  active(chatId: string): Promise<string | null>;
}

/** The answers' log (process-wide: it remembers the last line, to not repeat it). */
const log = () => singleton("ai-log", createLogger);

class AnswerService implements Answers {
  /** Answers this process runs, for stop requests from any instance. */
  private readonly running = new Map<string, AbortController>();
  private listening: Promise<void> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly store: AnswerStore,
  ) {}

  /** The bounds answers are written with, from the settings (read per answer: dev reloads). */
  settings() {
    const config = getConfig();
    const retention: HistoryOptions = {
      maxLength: 100_000,
      ttlSeconds: config.aiAnswerTtlSeconds,
      idleTtlSeconds: config.aiAnswerTtlSeconds,
    };
    return { config, retention };
  }

  /** Every instance hears stop requests; the one running the answer aborts it. */
  private listen(): Promise<void> {
    this.listening ??= Promise.resolve(
      this.broker.subscribe(STOP_CHANNEL, (frame) => {
        const { data } = parseFrame(frame);
        this.running.get(data)?.abort(new Error("stopped"));
      }),
    ).catch((error: unknown) => {
      this.listening = undefined;
      throw error;
    });
    return this.listening;
  }

  async start(
    chatId: string,
    generate: (signal: AbortSignal) => ReadableStream<UIMessageChunk>,
  ): Promise<Response> {
    assertId(chatId);
    const { config, retention } = this.settings();
    await this.listen();
    const answerId = randomUUID();
    const abort = new AbortController();
    await this.store.setActive(chatId, answerId, config.aiAnswerTtlSeconds);
    this.running.set(answerId, abort);
    const stream = generate(abort.signal);
    void runAnswer({
      broker: this.broker,
      store: this.store,
      chatId,
      answerId,
      stream,
      abort,
      retention,
      maxBytes: config.aiMaxAnswerBytes,
      flushMs: config.aiFlushMs,
    })
      .catch((error: unknown) => log().warn(`an answer failed: ${(error as Error).message}`))
      .finally(() => this.running.delete(answerId));
    return answerResponse({ broker: this.broker, store: this.store, answerId, retention });
  }

  async resume(chatId: string): Promise<Response> {
    assertId(chatId);
    const answerId = await this.store.active(chatId);
    if (answerId === null) return new Response(null, { status: 204 });
    return answerResponse({ ...this.view(answerId) });
  }

  async stop(chatId: string): Promise<boolean> {
    assertId(chatId);
    const answerId = await this.store.active(chatId);
    if (answerId === null) return false;
    await this.broker.publish(STOP_CHANNEL, { body: stopBody(answerId), transient: true });
    return true;
  }

  active(chatId: string): Promise<string | null> {
    assertId(chatId);
    return this.store.active(chatId);
  }

  /** What a viewer of an answer needs (also for the `resumable-stream` shape below). */
  view(answerId: string) {
    return {
      broker: this.broker,
      store: this.store,
      answerId,
      retention: this.settings().retention,
    };
  }
}

function assertId(id: string): void {
  if (!ANSWER_ID.test(id)) {
    throw new HttpError(400, "invalid_chat", "a chat id is 1 to 100 characters of A-Z a-z 0-9 _ -");
  }
}

/** Answers on a broker of your choosing (tests, a second Redis); most code wants `getAnswers`. */
export function createAnswers(broker: Broker, store?: AnswerStore): Answers {
  return new AnswerService(broker, store ?? createAnswerStore(broker, getConfig().redisTimeoutMs));
}

/** The process's answers, on its broker. */
export function getAnswers(): Answers {
  return singleton("ai-answers", () => createAnswers(getBroker()));
}

/**
 * The shape of `resumable-stream`'s context, so a route written for the AI SDK docs changes
 * one import: `createNewResumableStream(id, () => sseStream)` keeps an answer (the SSE text
 * the AI SDK's `consumeSseStream` hands over) and `resumeExistingStream(id)` reads it back
 * from its first chunk, then live. Stopping needs `getAnswers().start`'s signal instead.
 */
export function createResumableStreamContext(_options?: { waitUntil?: unknown }) {
  const service = getAnswers() as AnswerService;
  return {
    async createNewResumableStream(
      streamId: string,
      makeStream: () => ReadableStream<string>,
    ): Promise<ReadableStream<string> | null> {
      assertId(streamId);
      const { config, retention } = (
        service as unknown as {
          settings(): { config: ReturnType<typeof getConfig>; retention: HistoryOptions };
        }
      ).settings();
      const abort = new AbortController();
      void runAnswer({
        ...service.view(streamId),
        chatId: streamId,
        stream: parseUiSse(makeStream()),
        abort,
        retention,
        maxBytes: config.aiMaxAnswerBytes,
        flushMs: config.aiFlushMs,
      }).catch((error: unknown) => log().warn(`an answer failed: ${(error as Error).message}`));
      return viewAnswer(service.view(streamId)).pipeThrough(decodeText());
    },
    async resumeExistingStream(streamId: string): Promise<ReadableStream<string> | null> {
      assertId(streamId);
      return viewAnswer(service.view(streamId)).pipeThrough(decodeText());
    },
  };
}

/** Bytes to text (the DOM and Node typings of TextDecoderStream disagree on its input). */
function decodeText(): TransformStream<Uint8Array, string> {
  return new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
}

/** The AI SDK's UI message stream as SSE text, back into its chunks. */
function parseUiSse(stream: ReadableStream<string>): ReadableStream<UIMessageChunk> {
  return stream.pipeThrough(new EventSourceParserStream()).pipeThrough(
    new TransformStream<EventSourceMessage, UIMessageChunk>({
      transform(message, controller) {
        if (message.data !== "[DONE]") controller.enqueue(JSON.parse(message.data));
      },
    }),
  );
}
