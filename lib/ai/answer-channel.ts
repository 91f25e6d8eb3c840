import type { UIMessageChunk } from "ai";
import { encodeEvent, encodeEventBody } from "@/lib/sse/frame";

/**
 * An answer's channel (`ai.<answerId>`): `chunks` events carry the UI message chunks of a
 * batch, in order, and one `answer-end` event closes it. Reading it from its first event
 * rebuilds the whole answer; following it live gives the rest.
 */
export const CHUNKS_EVENT = "chunks";
export const ANSWER_END_EVENT = "answer-end";

/** How an answer ended. */
export type AnswerEnd =
  /** The model finished. */
  | "finished"
  /** The stop endpoint (from any instance) cancelled it. */
  | "stopped"
  /** The model or the answer's bounds failed it. */
  | "failed"
  /** The instance running it went away (its lease ran out). */
  | "interrupted";

export interface AnswerEndData {
  reason: AnswerEnd;
  error?: string;
}

/** The channel of an answer. */
export function answerChannel(answerId: string): string {
  return `ai.${answerId}`;
}

/** The broker channel every instance follows for stop requests (no client can name it). */
export const STOP_CHANNEL = "ai/stop";
/** Where a viewer on another instance says it follows an answer, so it is written per turn. */
export const WATCH_CHANNEL = "ai/watch";
/** How often such a viewer says so while it follows. */
export const WATCH_EVERY_MS = 2000;

/** Chat and answer ids reach Redis keys and channel names: checked before they do. */
export const ANSWER_ID = /^[A-Za-z0-9_-]{1,100}$/;

export function chunksBody(chunks: readonly UIMessageChunk[]): string {
  return encodeEventBody({ type: CHUNKS_EVENT, data: chunks });
}

export function endBody(end: AnswerEndData): string {
  return encodeEventBody({ type: ANSWER_END_EVENT, data: end });
}

/** The UI chunk an answer that ended without one of its own needs, so the client settles. */
export function terminalChunk(end: AnswerEndData): UIMessageChunk {
  if (end.reason === "stopped") return { type: "abort" };
  if (end.reason === "finished") return { type: "finish" };
  return { type: "error", errorText: end.error ?? `the answer was ${end.reason}` };
}

/** Whether a chunk ends the UI message stream by itself. */
export function isTerminal(chunk: UIMessageChunk): boolean {
  return chunk.type === "finish" || chunk.type === "abort" || chunk.type === "error";
}

/** The AI SDK's UI message stream, as `toUIMessageStreamResponse` writes it. */
export function sseChunk(chunk: UIMessageChunk): string {
  return encodeEvent({ data: chunk });
}

export const SSE_DONE = encodeEvent({ data: "[DONE]" });

/** A word on STOP_CHANNEL or WATCH_CHANNEL: the answer it names. */
export function answerIdBody(answerId: string): string {
  return encodeEventBody({ data: answerId });
}

export const UI_STREAM_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-vercel-ai-ui-message-stream": "v1",
  "x-accel-buffering": "no",
} as const;

/** An answer's stream as the Response an AI SDK route returns. */
export function answerResponse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, { headers: UI_STREAM_HEADERS });
}
