import { requireDemo } from "@/components/demo/fences";
import { limitRate } from "@/lib/access/rate-limit";
import { getAnswers } from "@/lib/ai";
import { getConfig } from "@/lib/config";
import { errorResponse } from "@/lib/http";

/** `POST /api/chat/ID/stop`: stops the chat's answer on whichever instance runs it. */
export async function POST(
  request: Request,
  { params }: { params: Promise<{ id: string }> },
): Promise<Response> {
  try {
    requireDemo();
    limitRate(request.headers, "demo-publish", getConfig().demoPublishPerMinute);
    return Response.json({ stopped: await getAnswers().stop((await params).id) });
  } catch (error) {
    return errorResponse(error);
  }
}
