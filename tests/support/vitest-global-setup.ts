import type { TestProject } from "vitest/node";
import { startRedisServer } from "./redis-server";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** Gives the unit and contract tests a private Redis, or TEST_REDIS_URL when set. */
export default async function setup(project: TestProject) {
  if (process.env.TEST_REDIS_URL) {
    project.provide("redisUrl", process.env.TEST_REDIS_URL);
    return;
  }
  const redis = await startRedisServer();
  project.provide("redisUrl", redis.url);
  return () => redis.stop();
}
