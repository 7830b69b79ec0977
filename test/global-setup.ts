import type { TestProject } from 'vitest/node';
import { startRedisServer, removeRedisDir } from './helpers/redis-server.js';

/** One redis-server for the whole run; each test relay uses its own QUEUE_PREFIX on it. */
export default async function setup(project: TestProject) {
  const redis = await startRedisServer();
  project.provide('redisUrl', redis.url);
  return () => removeRedisDir(redis);
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
