import net from 'node:net';

export interface Services {
  databaseUrl: string;
  redisUrl: string;
  stop: () => Promise<void>;
}

const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort), timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Where the tests find PostgreSQL and Redis: DATABASE_URL / REDIS_URL when set; else the local servers
 * on their default ports; else containers when a Docker engine exists; else a clear error. Tests never
 * skip silently for lack of a database.
 */
export async function resolveServices(env = process.env): Promise<Services> {
  const databaseUrl = env.DATABASE_URL ?? LOCAL_DATABASE_URL;
  const redisUrl = env.REDIS_URL ?? LOCAL_REDIS_URL;
  const [pgUp, redisUp] = await Promise.all([reachable(databaseUrl, 5432), reachable(redisUrl, 6379)]);
  if (pgUp && redisUp) return { databaseUrl, redisUrl, stop: async () => {} };
  if (env.DATABASE_URL && !pgUp) throw new Error(`DATABASE_URL is set but ${new URL(databaseUrl).host} does not answer`);
  if (env.REDIS_URL && !redisUp) throw new Error(`REDIS_URL is set but ${new URL(redisUrl).host} does not answer`);

  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    throw new Error(
      'No PostgreSQL/Redis for the tests: set DATABASE_URL and REDIS_URL, start PostgreSQL on 127.0.0.1:5432 and Redis on ' +
        '127.0.0.1:6379, or provide a Docker engine for testcontainers.',
    );
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [postgres, redis] = await Promise.all([
    new PostgreSqlContainer('postgres:17-alpine').withUsername('postgres').withPassword('postgres').withDatabase('postgres').start(),
    new RedisContainer('redis:7-alpine').start(),
  ]);
  return {
    databaseUrl: postgres.getConnectionUri(),
    redisUrl: redis.getConnectionUrl(),
    stop: async () => {
      await Promise.all([postgres.stop(), redis.stop()]);
    },
  };
}
