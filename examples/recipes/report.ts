import "server-only";
import { publishEvent } from "@/lib/features/publish";

export async function reportReady(report: { url: string }, jobId: string) {
  const { id, duplicate } = await publishEvent(report, {
    channel: "reports",
    type: "ready",
    id: jobId,
  });
  // `id: jobId` makes a retried job deliver once.
  return { id, duplicate };
}
