import "server-only";
import { publish, publishEvent } from "@/lib/features/publish";

export async function examples() {
  await publish({ message: "Hello!" }, { type: "greeting" }); // channel "sse"; resolves to receivers
  await publish("line 1\nline 2", { channel: "room.42", retry: 1000 });
  const { id, receivers, duplicate } = await publishEvent(
    { n: 1 },
    { channel: "room.42", id: "job-7" },
  );
  return { id, receivers, duplicate };
}
