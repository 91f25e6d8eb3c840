import "server-only";
import { subscribe } from "@/lib/features/subscribe";

/** Where a worker keeps its place (your database); here, only the shape. */
export interface Checkpoints {
  load(): Promise<string | undefined>;
  save(id: string): Promise<void>;
}

export async function follow(checkpoints: Checkpoints, signal: AbortSignal) {
  let after = await checkpoints.load(); // undefined the first time
  for await (const event of subscribe(["orders"], { after, signal })) {
    if (event.type === "reset")
      await resync(); // history could not fill a gap
    else await handle(event.data);
    after = event.id ?? after; // an event published without history has no id
    if (after !== undefined) await checkpoints.save(after);
  }
}

async function resync(): Promise<void> {}
async function handle(_data: unknown): Promise<void> {}
