import { getAnswers } from "@/lib/ai";

// app/api/chat/[id]/stream/route.ts: the GET that useChat({ resume: true }) sends; 204 when
// no answer is active
export async function GET(_: Request, { params }: { params: Promise<{ id: string }> }) {
  return getAnswers().resume((await params).id);
}
