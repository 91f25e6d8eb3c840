import "server-only";
import { randomUUID } from "node:crypto";
import type { UIMessageChunk } from "ai";
import type { EventSourceMessage } from "eventsource-parser";
import { EventSourceParserStream } from "eventsource-parser/stream";
import {
  ANSWER_ID,
  answerIdBody,
  answerResponse,
  STOP_CHANNEL,
  WATCH_CHANNEL,
} from "@/lib/ai/answer-channel";
import { type AnswerStore, createAnswerStore } from "@/lib/ai/answer-store";
import type { LocalAnswer } from "@/lib/ai/local-answer";
import { type RunningAnswer, startAnswer } from "@/lib/ai/runner";
import { followAnswer } from "@/lib/ai/viewer";
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
 * first chunk, to as many viewers as come (the instance that runs it, from memory); the stop
 * endpoint cancels it wherever it runs.
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
  /** Answers this process runs: for its own viewers, and stop and watch words from any instance. */
  private readonly running = new Map<string, RunningAnswer>();
  /** Answers other instances run that viewers here follow: one subscription each. */
  private readonly followed = new Map<string, LocalAnswer>();
  private listening: Promise<void> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly store: AnswerStore,
    private readonly options: AnswersOptions,
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

  /** Every instance hears stop and watch words; the one running the answer acts on them. */
  listen(): Promise<void> {
    const on = (act: (answer: RunningAnswer) => void) => (frame: Uint8Array) => {
      const answer = this.running.get(parseFrame(frame).data);
      if (answer !== undefined) act(answer);
    };
    this.listening ??= Promise.all([
      this.broker.subscribe(
        STOP_CHANNEL,
        on((answer) => answer.abort.abort(new Error("stopped"))),
      ),
      this.broker.subscribe(
        WATCH_CHANNEL,
        on((answer) => answer.watched()),
      ),
    ]).then(
      () => undefined,
      (error: unknown) => {
        this.listening = undefined;
        throw error;
      },
    );
    return this.listening;
  }

  /** Runs an answer on this process, for its viewers here and its channel for the rest. */
  begin(
    chatId: string,
    answerId: string,
    stream: ReadableStream<UIMessageChunk>,
    abort: AbortController,
  ): RunningAnswer {
    const { config, retention } = this.settings();
    const answer = startAnswer({
      broker: this.broker,
      store: this.store,
      chatId,
      answerId,
      stream,
      abort,
      retention,
      maxBytes: config.aiMaxAnswerBytes,
      flushMs: this.options.flushMs ?? config.aiFlushMs,
      storeMs: this.options.storeMs ?? config.aiStoreMs,
    });
    this.running.set(answerId, answer);
    void answer.done
      .catch((error: unknown) => log().warn(`an answer failed: ${(error as Error).message}`))
      .finally(() => this.running.delete(answerId));
    return answer;
  }

  /** A viewer of an answer: from memory where it runs, else from its channel, followed once. */
  viewer(answerId: string): ReadableStream<Uint8Array> {
    const running = this.running.get(answerId);
    if (running !== undefined) return running.local.view();
    let followed = this.followed.get(answerId);
    if (followed === undefined) {
      const answer = followAnswer(this.view(answerId), () => {
        if (this.followed.get(answerId) === answer) this.followed.delete(answerId);
      });
      followed = answer;
      this.followed.set(answerId, answer);
    }
    return followed.view();
  }

  async start(
    chatId: string,
    generate: (signal: AbortSignal) => ReadableStream<UIMessageChunk>,
  ): Promise<Response> {
    assertId(chatId);
    await this.listen();
    const answerId = randomUUID();
    const abort = new AbortController();
    await this.store.setActive(chatId, answerId, getConfig().aiAnswerTtlSeconds);
    return answerResponse(this.begin(chatId, answerId, generate(abort.signal), abort).local.view());
  }

  async resume(chatId: string): Promise<Response> {
    assertId(chatId);
    const answerId = await this.store.active(chatId);
    if (answerId === null) return new Response(null, { status: 204 });
    return answerResponse(this.viewer(answerId));
  }

  async stop(chatId: string): Promise<boolean> {
    assertId(chatId);
    const answerId = await this.store.active(chatId);
    if (answerId === null) return false;
    await this.broker.publish(STOP_CHANNEL, { body: answerIdBody(answerId), transient: true });
    return true;
  }

  active(chatId: string): Promise<string | null> {
    assertId(chatId);
    return this.store.active(chatId);
  }

  /** What a viewer of an answer on another instance needs. */
  private view(answerId: string) {
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

export interface AnswersOptions {
  /** Where active answers and leases are kept (default: beside the broker). */
  store?: AnswerStore;
  /** SSE_AI_FLUSH_MS for these answers. */
  flushMs?: number;
  /** SSE_AI_STORE_MS for these answers. */
  storeMs?: number;
}

/** Answers on a broker of your choosing (tests, a second Redis); most code wants `getAnswers`. */
export function createAnswers(broker: Broker, options: AnswersOptions = {}): Answers {
  const store = options.store ?? createAnswerStore(broker, getConfig().redisTimeoutMs);
  return new AnswerService(broker, store, options);
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
      await service.listen();
      const answer = service.begin(
        streamId,
        streamId,
        parseUiSse(makeStream()),
        new AbortController(),
      );
      return answer.local.view().pipeThrough(decodeText());
    },
    async resumeExistingStream(streamId: string): Promise<ReadableStream<string> | null> {
      assertId(streamId);
      return service.viewer(streamId).pipeThrough(decodeText());
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
