import { startDemoAnswer } from "@/components/demo/chat-routes";
import { errorResponse } from "@/lib/http";

/** `POST /api/chat`: the demo chat starts an answer (see `lib/ai`). */
export async function POST(request: Request): Promise<Response> {
  try {
    return await startDemoAnswer(request);
  } catch (error) {
    return errorResponse(error);
  }
}
