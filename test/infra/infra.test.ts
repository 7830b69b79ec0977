import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestProject } from 'vitest/node';
import { createNetwork, netnsUnavailableReason, removeStaleNetworks, type TestNetwork } from '../helpers/netns.js';
import postgresGlobalSetup from '../helpers/postgres-global-setup.js';
import { createDatabase, removeStalePostgresServers, startPostgresServer, type TestPostgres } from '../helpers/postgres-server.js';
import { redisCommand, removeStaleRedisClusters, startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { removeStaleRedisSentinels, startRedisSentinel, type TestRedisSentinel } from '../helpers/redis-sentinel.js';

/**
 * Proves the infrastructure helpers: a PostgreSQL server that can be killed and brought back, a
 * Redis Cluster that runs BullMQ with a `{relay}` prefix, a Sentinel set that fails over under a
 * live ioredis client, and network-namespace "hosts" that reach each other but not the machine's
 * own services. Timings are printed at the end.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const timings: Record<string, number> = {};

beforeAll(async () => {
  // Leftovers of killed runs (live parallel runs are recognised by their pid and kept).
  removeStalePostgresServers();
  removeStaleRedisClusters();
  removeStaleRedisSentinels();
  await removeStaleNetworks();
});

afterAll(() => {
  console.log(`infra timings (ms): ${JSON.stringify(timings)}`);
});

/** Resolves with the connect error code, or 'CONNECTED'. */
function tryConnect(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('CONNECTED');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('postgres-server', () => {
  let server: TestPostgres;

  beforeAll(async () => {
    server = await startPostgresServer();
    timings.postgresStartup = server.startupMs;
    timings.postgresInitdb = server.timings.initdbMs;
    timings.postgresStart = server.timings.startMs;
  });
  afterAll(async () => {
    await server?.remove();
    if (server) expect(existsSync(server.dir)).toBe(false);
  });

  it('answers select 1 on 127.0.0.1 only, its socket in its own folder, with the test settings', async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/relay_test`);
    expect(server.port).not.toBe(5432);
    const [row] = await query<{ one: number; listen: string; sockets: string; fsync: string; max: string }>(
      server.url,
      `select 1 as one, current_setting('listen_addresses') as listen, current_setting('unix_socket_directories') as sockets,
              current_setting('fsync') as fsync, current_setting('max_connections') as max`,
    );
    expect(row).toEqual({ one: 1, listen: '127.0.0.1', sockets: server.socketDir, fsync: 'off', max: '200' });
    expect(server.socketDir.startsWith(server.dir)).toBe(true);
    expect(server.startupMs).toBeLessThan(5000);
  });

  it('gives each test file its own database (method and standalone createDatabase)', async () => {
    const a = await server.createDatabase('file_a');
    const b = await createDatabase(server.url, 'file_b');
    expect(b).toBe(server.urlFor('file_b'));
    await query(a, 'create table only_in_a (id int)');
    expect(await query(a, "select to_regclass('only_in_a')::text as t")).toEqual([{ t: 'only_in_a' }]);
    expect(await query(b, "select to_regclass('only_in_a')::text as t")).toEqual([{ t: null }]);
    // Re-creating gives an empty database again (a re-run in watch mode starts clean).
    await server.createDatabase('file_a');
    expect(await query(a, "select to_regclass('only_in_a')::text as t")).toEqual([{ t: null }]);
  });

  it('kill() refuses connections; start() recovers, keeping a row committed before the kill', async () => {
    const client = new pg.Client(server.url);
    await client.connect();
    await client.query('create table durable (v text)');
    // synchronous_commit=on for this transaction: COMMIT returns only after its WAL was written
    // (to the page cache: fsync is off), so it survives the processes being killed. With the
    // server's synchronous_commit=off, a row committed just before kill() may be lost.
    await client.query('begin');
    await client.query('set local synchronous_commit = on');
    await client.query("insert into durable values ('before the kill')");
    await client.query('commit');
    await client.end();

    const t0 = Date.now();
    await server.kill();
    timings.postgresKill = Date.now() - t0;
    expect(server.isRunning()).toBe(false);
    expect(await tryConnect(server.port)).toBe('ECONNREFUSED');
    await expect(query(server.url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);

    const t1 = Date.now();
    await server.start();
    timings.postgresRestartAfterKill = Date.now() - t1;
    expect(await query(server.url, 'select v from durable')).toEqual([{ v: 'before the kill' }]);

    const t2 = Date.now();
    await server.restart();
    timings.postgresCleanRestart = Date.now() - t2;
    expect(await query(server.url, 'select count(*)::int as n from durable')).toEqual([{ n: 1 }]);
  });

  it('works as a vitest globalSetup: one server, provided URL, teardown removes it', async () => {
    const provided: Record<string, unknown> = {};
    const project = { provide: (key: string, value: unknown) => (provided[key] = value) } as unknown as TestProject;
    const teardown = await postgresGlobalSetup(project);
    const url = String(provided.postgresUrl);
    try {
      expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/relay_run$/);
      const fileUrl = await createDatabase(url, 'some_test_file');
      expect(await query(fileUrl, 'select current_database() as db')).toEqual([{ db: 'some_test_file' }]);
    } finally {
      await teardown();
    }
    expect(await tryConnect(Number(new URL(url).port))).toBe('ECONNREFUSED');
  });
});

describe('redis-cluster', () => {
  let cluster: TestRedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    timings.redisClusterStartup = cluster.startupMs;
  });
  afterAll(() => cluster?.remove());

  it('has three masters sharing all slots, state ok on every node', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.nodesString).toBe(cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(','));
    for (const node of cluster.nodes) {
      expect(String(await redisCommand(node.port, 'CLUSTER', ['INFO']))).toMatch(/cluster_state:ok[\s\S]*cluster_size:3/);
    }
  });

  it('runs a BullMQ job through an ioredis Cluster with a {relay} prefix', async () => {
    // BullMQ refuses a Worker connection with maxRetriesPerRequest != null; on a Cluster it is set in redisOptions.
    const connection = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
    const queue = new Queue('alerts', { connection, prefix: '{relay}' });
    const worker = new Worker('alerts', async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), {
      connection,
      prefix: '{relay}',
    });
    try {
      const done = new Promise<unknown>((resolve, reject) => {
        worker.on('completed', (_job, result) => resolve(result));
        worker.on('failed', (_job, error) => reject(error));
      });
      const t0 = Date.now();
      const job = await queue.add('deliver', { n: 21 });
      expect(await done).toEqual({ doubled: 42 });
      timings.bullmqClusterJob = Date.now() - t0;
      expect((await queue.getJob(job.id!))?.returnvalue).toEqual({ doubled: 42 });

      // Without a hash tag, a queue's keys spread over slots and its scripts fail.
      const untagged = new Queue('alerts', { connection, prefix: 'relay' });
      await expect(untagged.add('deliver', { n: 1 })).rejects.toThrow(/CROSSSLOT/);
      await untagged.close();
    } finally {
      await worker.close();
      await queue.close();
      await connection.quit();
    }
  });
});

describe('redis-sentinel', () => {
  let sentinel: TestRedisSentinel;

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    timings.redisSentinelStartup = sentinel.startupMs;
  });
  afterAll(() => sentinel?.remove());

  it('fails over; an ioredis sentinel client writes again without being recreated', async () => {
    const ports = sentinel.sentinels.map((s) => s.port);
    expect(sentinel.sentinelUrl).toBe(`redis+sentinel://${ports.map((p) => `127.0.0.1:${p}`).join(',')}/mymaster`);
    expect(await sentinel.currentMaster()).toEqual(sentinel.master);

    const client = new Redis({ sentinels: sentinel.sentinels, name: sentinel.masterName });
    const errors: string[] = [];
    client.on('error', (error: Error) => errors.push(error.message));
    try {
      await client.set('before', '1');
      // Replication is asynchronous: make sure the replica has the key before the master dies.
      expect(await client.call('WAIT', 1, 2000)).toBe(1);
      expect(await client.call('CONFIG', 'GET', 'port')).toEqual(['port', String(sentinel.master.port)]);

      await sentinel.killMaster();
      const promoted = await sentinel.waitForFailover(15_000);
      timings.redisSentinelFailover = promoted.ms;
      expect(promoted.port).toBe(sentinel.replica.port);

      const t0 = Date.now();
      expect(await client.set('after', '2')).toBe('OK');
      timings.redisSentinelClientBack = Date.now() - t0;
      expect(await client.call('CONFIG', 'GET', 'port')).toEqual(['port', String(sentinel.replica.port)]);
      expect(await client.mget('before', 'after')).toEqual(['1', '2']);
      expect(errors.some((e) => e.includes('ECONNREFUSED'))).toBe(true); // it did see the outage
    } finally {
      client.disconnect();
    }
  });
});

const netnsReason = await netnsUnavailableReason();

describe.skipIf(netnsReason !== null)(`netns${netnsReason ? ` (skipped: ${netnsReason})` : ''}`, () => {
  let network: TestNetwork;

  beforeAll(async () => {
    network = await createNetwork('infra', 2);
    timings.netnsSetup = network.setupMs;
  });
  afterAll(() => network?.remove());

  it('host 1 reaches a server on host 0 by its address, but not 127.0.0.1 of the machine', async () => {
    const [host0, host1] = [network.hosts[0]!, network.hosts[1]!];
    expect(host0.address).not.toBe(host1.address);
    const server = network.exec(0, process.execPath, [
      '-e',
      `require('node:http').createServer((req, res) => res.end('hello from host0')).listen(8080, '0.0.0.0', () => console.log('listening'))`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise((resolve, reject) => {
        server.stdout!.once('data', resolve);
        server.once('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
      const fetched = await network.run(1, process.execPath, [
        '-e',
        `fetch('http://${host0.address}:8080/').then((r) => r.text()).then((t) => console.log(t), (e) => { console.error(e); process.exit(1); })`,
      ]);
      expect(fetched).toMatchObject({ code: 0, stdout: 'hello from host0\n' });

      // The machine's Redis (6379) and PostgreSQL (5432), and this run's own redis-server, all
      // listen on the machine's 127.0.0.1; inside host 1, 127.0.0.1 is host 1's own loopback.
      const runRedisPort = Number(new URL(inject('redisUrl')).port);
      expect(await tryConnect(runRedisPort)).toBe('CONNECTED'); // from the machine: reachable
      const probe = (port: number) =>
        network.run(1, process.execPath, [
          '-e',
          `require('node:net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`,
        ]);
      for (const port of [6379, 5432, runRedisPort]) expect((await probe(port)).stdout.trim()).toBe('ECONNREFUSED');
      // …and host 0's server is not on host 1's loopback either.
      expect((await probe(8080)).stdout.trim()).toBe('ECONNREFUSED');
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('runs PostgreSQL on host 0 (listening on its address) for node + pg from the repository on host 1', async () => {
    const [host0] = [network.hosts[0]!];
    const server = await startPostgresServer({ netns: host0.ns, listen: host0.address });
    try {
      expect(server.url).toBe(`postgres://postgres@${host0.address}:${server.port}/relay_test`);
      const result = await network.run(
        1,
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import pg from 'pg'; const c = new pg.Client(process.env.DATABASE_URL); await c.connect();
           const { rows } = await c.query("select 1 as one, host(inet_server_addr()) as addr"); console.log(JSON.stringify(rows)); await c.end();`,
        ],
        { cwd: ROOT, env: { ...process.env, DATABASE_URL: server.url } },
      );
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual([{ one: 1, addr: host0.address }]);
    } finally {
      await server.remove();
    }
  });

  it('remove() deletes the namespaces', async () => {
    const extra = await createNetwork('gone', 1);
    const ns = extra.hosts[0]!.ns;
    await extra.remove();
    expect(existsSync(`/run/netns/${ns}`)).toBe(false);
  });
});
