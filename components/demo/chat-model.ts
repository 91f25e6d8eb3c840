import "server-only";
import { type LanguageModel, simulateReadableStream } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { getConfig } from "@/lib/config";

/** Tokens of the mock model's answer: long enough to reload, open a second tab, or stop. */
export const MOCK_ANSWER_TOKENS = 200;

const WORDS = ["resumable", "answers", "survive", "reloads", "tabs", "instances", "and", "Redis"];

/** The mock answer's n-th token (1-based): a word and its number, so each is told apart. */
export function mockToken(n: number): string {
  return `${WORDS[(n - 1) % WORDS.length]}${n} `;
}

/**
 * The demo chat's model: the AI Gateway model SSE_AI_MODEL names (the AI SDK reads
 * AI_GATEWAY_API_KEY), else the AI SDK's own mock model, which streams a long answer token
 * by token (SSE_AI_MOCK_TOKEN_MS apart): no key, no network.
 */
export function demoModel(): LanguageModel {
  const { aiModel, aiMockTokenMs } = getConfig();
  if (aiModel !== undefined) return aiModel;
  return new MockLanguageModelV3({
    doStream: async () => ({
      stream: simulateReadableStream({
        initialDelayInMs: aiMockTokenMs,
        chunkDelayInMs: aiMockTokenMs,
        chunks: [
          { type: "stream-start", warnings: [] },
          { type: "text-start", id: "answer" },
          ...Array.from({ length: MOCK_ANSWER_TOKENS }, (_, i) => ({
            type: "text-delta" as const,
            id: "answer",
            delta: mockToken(i + 1),
          })),
          { type: "text-end", id: "answer" },
          {
            type: "finish",
            finishReason: { unified: "stop", raw: "stop" },
            usage: {
              inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
              outputTokens: { total: MOCK_ANSWER_TOKENS, text: MOCK_ANSWER_TOKENS, reasoning: 0 },
            },
          },
        ],
      }),
    }),
  });
}
