import { getAnswers } from "@/lib/ai";

// app/api/chat/[id]/stop/route.ts: stops the answer on whichever instance runs it
export async function POST(_: Request, { params }: { params: Promise<{ id: string }> }) {
  return Response.json({ stopped: await getAnswers().stop((await params).id) });
}
