"use server";
import { publish } from "@/lib/features/publish";

export async function like(postId: string) {
  await publish({ postId }, { type: "liked", channel: `post-${postId}` });
}
