import type { TestProject } from "vitest/node";
import { startRedisCluster } from "./redis-cluster";
import { startRedisServer } from "./redis-server";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    clusterNodes: string[];
  }
}

/**
 * Gives the unit and contract tests a private Redis (or TEST_REDIS_URL when set) and a
 * private three-master Redis Cluster.
 */
export default async function setup(project: TestProject) {
  const [redis, cluster] = await Promise.all([
    process.env.TEST_REDIS_URL ? undefined : startRedisServer(),
    startRedisCluster(),
  ]);
  project.provide("redisUrl", process.env.TEST_REDIS_URL ?? redis?.url ?? "");
  project.provide("clusterNodes", cluster.nodes);
  return async () => {
    await Promise.all([redis?.stop(), cluster.stop()]);
  };
}
