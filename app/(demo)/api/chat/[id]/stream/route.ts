import { requireDemo } from "@/components/demo/fences";
import { getAnswers } from "@/lib/ai";
import { errorResponse } from "@/lib/http";

/** `GET /api/chat/ID/stream`: the chat's active answer from its first chunk, then live; 204 when none. */
export async function GET(
  _request: Request,
  { params }: { params: Promise<{ id: string }> },
): Promise<Response> {
  try {
    requireDemo();
    return await getAnswers().resume((await params).id);
  } catch (error) {
    return errorResponse(error);
  }
}
