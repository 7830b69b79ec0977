import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePorts, isPidAlive, makeOwnedTempDir, onProcessExit, processCommandLine, removeStaleTempDirs, run, tailFile } from './process-utils.js';

/**
 * A real PostgreSQL server of the test's own: `initdb` into a fresh temp folder, `pg_ctl start` on a
 * free port, 127.0.0.1 only (or `listen`), its Unix socket inside the temp folder (never
 * /var/run/postgresql). Never the machine's own PostgreSQL on 5432: tests must not touch anything
 * they did not start.
 *
 * Why a real server (and not pg-mem / SQLite): outage tests need the real thing — connections
 * refused while it is down, crash recovery when it comes back, real locking and real SQL.
 *
 * Speed: `initdb --no-sync --locale=C` takes ~0.6 s and `pg_ctl start -w` ~0.1 s here, so a server
 * is ready in well under a second. Settings trade durability against the *machine* crashing for
 * speed (`fsync=off`, `full_page_writes=off`, `synchronous_commit=off`); killing the postgres
 * processes (`kill()`, i.e. `pg_ctl stop -m immediate`) still loses nothing that a commit reported
 * *and wrote to the WAL*: with fsync off the WAL is in the OS page cache, which survives the
 * processes, and crash recovery replays it on `start()`. With `synchronous_commit=off` a commit
 * returns before its WAL is written (the WAL writer writes it within ~200 ms), so a row committed
 * just before `kill()` can be lost: tests that check durability across a kill write that row with
 * `SET LOCAL synchronous_commit = on` (or run `CHECKPOINT`).
 *
 * Root: `initdb` refuses to run as root, so as root every PostgreSQL program runs as the `postgres`
 * user (`setpriv --reuid postgres`) and the temp folder is chowned to it; as another user they run as
 * that user.
 *
 * Two ways to use it:
 * - standalone, in a test file: `const pg = await startPostgresServer(); … afterAll(() => pg.remove())`;
 * - one server per run in a vitest globalSetup (see `postgres-global-setup.ts`), each test file
 *   making its own database: `const url = await createDatabase(inject('postgresUrl'), 'my_file')`.
 */
export interface PostgresServerOptions {
  /** Database created at start (the URL points at it). Default `relay_test`. */
  database?: string;
  /**
   * Address to listen on (`listen_addresses`). Default `127.0.0.1`. In a network namespace: the
   * host's address; then clients on the same subnet are trusted too (`host all all samenet trust`).
   */
  listen?: string;
  /**
   * Run the server inside this network namespace (`ip netns exec <ns>`, root only), e.g. a host of
   * `createNetwork()`, so that it can listen on an address that exists only there. The helper itself
   * still reaches it through the Unix socket in the temp folder (sockets in the file system cross
   * network namespaces).
   */
  netns?: string;
  /** Port; default a free one. */
  port?: number;
  /** `max_connections`; default 200. */
  maxConnections?: number;
  /** Extra postgresql.conf settings, e.g. `{ log_min_duration_statement: 0 }`. */
  settings?: Record<string, string | number | boolean>;
  /** Directory with initdb/pg_ctl; default `$PG_BINDIR`, else the newest /usr/lib/postgresql/<v>/bin, else $PATH. */
  binDir?: string;
}

export interface TestPostgres {
  /** `postgres://postgres@<host>:<port>/<database>` */
  url: string;
  host: string;
  port: number;
  database: string;
  /** The temp folder (owned by the postgres user when run as root): data/, the socket, postgres.log. */
  dir: string;
  dataDir: string;
  /** `unix_socket_directories`: connect with `{ host: socketDir, port }`. */
  socketDir: string;
  logFile: string;
  /** Milliseconds spent in startPostgresServer: initdb, first start and creating the database. */
  startupMs: number;
  timings: { initdbMs: number; startMs: number; createDatabaseMs: number };
  /** The URL of another database on this server. */
  urlFor(database: string): string;
  /** Creates (or re-creates: dropped first, with FORCE) a database; answers its URL. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** `pg_ctl start -w` on the same port and data folder (after stop() or kill()). */
  start(): Promise<void>;
  /** A clean stop (`pg_ctl stop -m fast`): sessions are ended, a shutdown checkpoint is written. */
  stop(): Promise<void>;
  /** An immediate stop (`pg_ctl stop -m immediate`): like a crash of the postgres processes; start() runs crash recovery. */
  kill(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Whether the postmaster is running (its pid file exists and the pid is alive). */
  isRunning(): boolean;
  /** Stops it (immediately: nothing is kept) and deletes the temp folder. */
  remove(): Promise<void>;
}

const DIR_PREFIX = 'relay-pg-';
const USER = 'postgres';

function defaultBinDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v) && existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return `/usr/lib/postgresql/${versions[0]}/bin`;
  } catch {
    /* not Debian's layout */
  }
  return '';
}

const isRoot = () => process.getuid?.() === 0;

let postgresIds: { uid: number; gid: number } | undefined;
function postgresUser(): { uid: number; gid: number } {
  if (!postgresIds) {
    try {
      postgresIds = {
        uid: Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim()),
        gid: Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim()),
      };
    } catch {
      throw new Error(`running as root, but there is no "${USER}" user to run initdb/postgres as`);
    }
  }
  return postgresIds;
}

/** Validates a database name (kept simple on purpose: it goes into SQL and URLs). */
function checkName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)} (letters, digits, _; at most 63)`);
  return name;
}

function formatSetting(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}

async function withAdminClient<T>(config: pg.ClientConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function recreateDatabase(client: pg.Client, name: string): Promise<void> {
  const quoted = `"${checkName(name)}"`;
  await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${quoted}`);
}

/**
 * Creates (or re-creates) database `name` on the server of `serverUrl` (any database of it; the
 * helper connects to `postgres`) and answers the new database's URL. For test files that only got a
 * URL from a globalSetup: each file its own database, e.g. named after the file.
 */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  await withAdminClient({ connectionString: admin.toString() }, (client) => recreateDatabase(client, name));
  const target = new URL(serverUrl);
  target.pathname = `/${name}`;
  return target.toString();
}

/** Starts a PostgreSQL server of the test's own; see the module comment. */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<TestPostgres> {
  const started = Date.now();
  const database = checkName(options.database ?? 'relay_test');
  const host = options.listen ?? '127.0.0.1';
  const port = options.port ?? (await freePorts(1))[0]!;
  const binDir = options.binDir ?? defaultBinDir();
  const bin = (name: string) => (binDir ? join(binDir, name) : name);
  if (options.netns && !isRoot()) throw new Error('startPostgresServer: netns needs root');

  const dir = makeOwnedTempDir(DIR_PREFIX);
  const dataDir = join(dir, 'data');
  const socketDir = dir;
  const logFile = join(dir, 'postgres.log');
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }

  /** The command line that runs a PostgreSQL program as the right user, in the right namespace. */
  const asPostgres = (program: string, args: string[]): [string, string[]] => {
    const command = isRoot()
      ? ['setpriv', `--reuid=${USER}`, `--regid=${USER}`, '--clear-groups', '--', bin(program), ...args]
      : [bin(program), ...args];
    const full = options.netns ? ['ip', 'netns', 'exec', options.netns, ...command] : command;
    return [full[0]!, full.slice(1)];
  };
  const pgRun = (program: string, args: string[], timeoutMs = 60_000) => {
    const [file, fileArgs] = asPostgres(program, args);
    return run(file, fileArgs, { cwd: dir, timeoutMs, env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' } });
  };

  const pidFile = join(dataDir, 'postmaster.pid');
  const postmasterPid = (): number => {
    try {
      return Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    } catch {
      return 0;
    }
  };
  const isRunning = () => isPidAlive(postmasterPid());

  // If this process exits without remove(): an immediate shutdown (SIGQUIT) and the folder goes.
  const unregisterExit = onProcessExit(() => {
    const pid = postmasterPid();
    if (isPidAlive(pid)) process.kill(pid, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  });

  const withLog = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw new Error(`${what} failed: ${(error as Error).message}\n--- ${logFile} ---\n${tailFile(logFile)}`, { cause: error });
    }
  };

  const start = () =>
    withLog(`postgres start on port ${port}`, async () => {
      await pgRun('pg_ctl', ['start', '-w', '-t', '30', '-s', '-D', dataDir, '-l', logFile]);
    });
  const stopWith = async (mode: 'fast' | 'immediate') => {
    if (!isRunning()) return;
    await withLog(`postgres stop -m ${mode}`, async () => {
      await pgRun('pg_ctl', ['stop', '-w', '-t', '30', '-s', '-m', mode, '-D', dataDir]);
    });
  };

  const adminConfig = (db = 'postgres'): pg.ClientConfig => ({ host: socketDir, port, user: USER, database: db });
  const urlFor = (db: string) => `postgres://${USER}@${host.includes(':') ? `[${host}]` : host}:${port}/${checkName(db)}`;

  try {
    const t0 = Date.now();
    await withLog('initdb', () =>
      pgRun('initdb', ['-D', dataDir, '-A', 'trust', '-U', USER, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']),
    );
    const initdbMs = Date.now() - t0;
    const settings: Record<string, string | number | boolean> = {
      listen_addresses: host,
      port,
      unix_socket_directories: socketDir,
      max_connections: options.maxConnections ?? 200,
      fsync: false,
      synchronous_commit: false,
      full_page_writes: false,
      shared_buffers: '32MB',
      // Nothing waits on a machine-wide checkpoint schedule; logs go to postgres.log only.
      checkpoint_timeout: '30min',
      max_wal_size: '1GB',
      logging_collector: false,
      log_min_messages: 'warning',
      timezone: 'UTC',
      ...options.settings,
    };
    if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
      // initdb's pg_hba.conf trusts loopback only; a server on a (namespace's) network address also
      // trusts clients on its directly connected subnets, e.g. the other hosts of createNetwork().
      appendFileSync(join(dataDir, 'pg_hba.conf'), '\nhost all all samenet trust\n');
    }
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      `\n# test settings (test/helpers/postgres-server.ts)\n${Object.entries(settings).map(([k, v]) => `${k} = ${formatSetting(v)}`).join('\n')}\n`,
    );

    const t1 = Date.now();
    await start();
    const startMs = Date.now() - t1;

    const t2 = Date.now();
    await withAdminClient(adminConfig(), (client) => recreateDatabase(client, database));
    const createDatabaseMs = Date.now() - t2;

    return {
      url: urlFor(database),
      host,
      port,
      database,
      dir,
      dataDir,
      socketDir,
      logFile,
      startupMs: Date.now() - started,
      timings: { initdbMs, startMs, createDatabaseMs },
      urlFor,
      createDatabase: async (name) => {
        await withAdminClient(adminConfig(), (client) => recreateDatabase(client, name));
        return urlFor(name);
      },
      dropDatabase: (name) =>
        withAdminClient(adminConfig(), async (client) => {
          await client.query(`DROP DATABASE IF EXISTS "${checkName(name)}" WITH (FORCE)`);
        }),
      start,
      stop: () => stopWith('fast'),
      kill: () => stopWith('immediate'),
      restart: async () => {
        await stopWith('fast');
        await start();
      },
      isRunning,
      remove: async () => {
        try {
          await stopWith('immediate');
        } finally {
          const pid = postmasterPid();
          if (isPidAlive(pid)) process.kill(pid, 'SIGKILL');
          rmSync(dir, { recursive: true, force: true });
          unregisterExit();
        }
      },
    };
  } catch (error) {
    const pid = postmasterPid();
    if (isPidAlive(pid)) process.kill(pid, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
    unregisterExit();
    throw error;
  }
}

/**
 * Removes the temp folders (and stops the postmasters) of earlier runs whose test process was killed
 * before it could clean up (`<tmpdir>/relay-pg-*` whose owner pid is gone). Safe with parallel runs:
 * folders of live processes are kept. (A postmaster whose folder is deleted also shuts itself down
 * within a minute, when it finds its lock file gone.)
 */
export function removeStalePostgresServers(): string[] {
  return removeStaleTempDirs(DIR_PREFIX, (dir) => {
    const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (isPidAlive(pid) && processCommandLine(pid).includes('postgres')) process.kill(pid, 'SIGQUIT');
  });
}
