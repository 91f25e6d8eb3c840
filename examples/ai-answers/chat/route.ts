import { convertToModelMessages, streamText, type UIMessage } from "ai";
import { getAnswers } from "@/lib/ai";

// app/api/chat/route.ts: the POST (useChat sends { id, messages })
export async function POST(request: Request): Promise<Response> {
  const { id, messages }: { id: string; messages: UIMessage[] } = await request.json();
  const modelMessages = await convertToModelMessages(messages);
  return getAnswers().start(id, (signal) =>
    streamText({
      model: "openai/gpt-5-mini",
      messages: modelMessages,
      abortSignal: signal,
    }).toUIMessageStream({ originalMessages: messages }),
  );
}
