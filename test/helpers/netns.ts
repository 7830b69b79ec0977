import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { hasPdeathsig, isPidAlive, onProcessExit, run, sleep } from './process-utils.js';

/**
 * Separate "hosts" on one machine: each host is a Linux network namespace with its own network
 * stack (its own loopback, its own ports, its own 127.0.0.1), joined to the others over veth pairs
 * and one bridge. Root only (`ip netns`, iproute2).
 *
 * Why: a relay process that is meant to talk to Redis/PostgreSQL on *another* host must not quietly
 * succeed by reaching the machine's own services on 127.0.0.1 (this machine runs PostgreSQL on 5432
 * and Redis on 6379). Inside a host namespace 127.0.0.1 is that host's own loopback only, and the
 * other hosts are reachable only by their addresses.
 *
 * Layout: the bridge lives in a namespace of its own (`…-br`), and each veth pair is created
 * directly between that namespace and a host namespace (`eth0` in the host). Nothing is added to
 * the machine's own (root) namespace, so no interface name, route or address can collide with the
 * machine's, and the root namespace's firewall / `net.bridge.bridge-nf-call-iptables` settings do
 * not apply to the traffic. Addresses: `10.213.<x>.<i+1>/24`, `x` random (and not a subnet the root
 * namespace uses, so that logs stay unambiguous).
 *
 * Namespaces share the file system with the machine: `exec(i, process.execPath, ['script.js'])`
 * runs node with the repository's files; only the network differs (separate working folders are
 * the test's job).
 *
 * Names are `relay-<name>-p<pid>-<random>-h<i>` / `-br`, so `removeStaleNetworks()` can tell
 * leftovers of killed runs (their pid is gone) from networks of live parallel runs.
 *
 * Root leg (`createNetwork(name, n, { rootLeg: true })`): the one exception to "nothing in the root
 * namespace". The test process itself (in the machine's namespace) gets one veth into the bridge,
 * `rl<random>` with the address `10.213.<x>.254/24` (`network.rootAddress`), so it can call servers
 * on the hosts and run servers (a Slack stand-in, say) that the hosts reach at that address. Only
 * that /24 is routed over it (no default route, no forwarding): the hosts still reach nothing of the
 * machine but what listens on the root leg's address or on all addresses (0.0.0.0) — the machine's
 * 127.0.0.1 stays out of reach. `remove()` deletes the veth (and deleting the bridge namespace would
 * take it along anyway, so `removeStaleNetworks()` cleans up killed runs' legs too).
 */
export interface NetnsHost {
  index: number;
  /** e.g. `host0` */
  name: string;
  /** the network namespace (`ip netns exec <ns> …`) */
  ns: string;
  /** the host's IPv4 address on the shared /24 */
  address: string;
}

export interface NetnsSpawnOptions extends SpawnOptions {
  /** SIGKILL the process when the spawning process dies (setpriv --pdeathsig). Default true. */
  dieWithParent?: boolean;
}

export interface NetnsRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CreateNetworkOptions {
  /**
   * Give the machine's own (root) namespace a leg into the bridge: a veth with a unique name and
   * the address `<subnet>.254`, removed by `remove()`. Default false (nothing in the root namespace).
   */
  rootLeg?: boolean;
}

export interface TestNetwork {
  name: string;
  /** e.g. `10.213.42.0/24` */
  subnet: string;
  /** the namespace holding the bridge */
  bridgeNs: string;
  hosts: NetnsHost[];
  /** With `rootLeg`: the root namespace's address on the subnet (`10.213.<x>.254`); else null. */
  rootAddress: string | null;
  /** With `rootLeg`: the root namespace's end of the veth (`rl<random>`); else null. */
  rootInterface: string | null;
  /** Milliseconds spent in createNetwork. */
  setupMs: number;
  /** Spawns `command args` inside host `hostIndex`'s namespace (`ip netns exec`). The ChildProcess is the command itself (ip execs it). */
  exec(hostIndex: number, command: string, args?: readonly string[], options?: NetnsSpawnOptions): ChildProcess;
  /** exec() and wait for the exit, collecting stdout/stderr (never rejects on a non-zero exit; rejects on timeout). */
  run(hostIndex: number, command: string, args?: readonly string[], options?: NetnsSpawnOptions & { timeoutMs?: number }): Promise<NetnsRunResult>;
  /** Kills every process still in the namespaces and deletes them (the veths and the bridge go with them). */
  remove(): Promise<void>;
}

const PREFIX = 'relay-';
const STALE_PATTERN = /-p(\d+)-[0-9a-f]+-(?:h\d+|br)$/;

let availability: Promise<string | null> | undefined;

/**
 * Whether network namespaces work here (root, `ip netns add`, veth, bridge, `ip netns exec`).
 * Cached. `netnsUnavailableReason()` says why not, for a skip message.
 */
export async function netnsAvailable(): Promise<boolean> {
  return (await probe()) === null;
}

/** Why netnsAvailable() is false (null when available). */
export async function netnsUnavailableReason(): Promise<string | null> {
  return probe();
}

function probe(): Promise<string | null> {
  availability ??= (async () => {
    if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
    const ns = `${PREFIX}probe-p${process.pid}-${randomBytes(3).toString('hex')}-br`;
    try {
      await run('ip', ['netns', 'add', ns], { timeoutMs: 10_000 });
      await run('ip', ['-n', ns, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1'], { timeoutMs: 10_000 });
      await run('ip', ['-n', ns, 'link', 'add', 'probebr', 'type', 'bridge'], { timeoutMs: 10_000 });
      await run('ip', ['netns', 'exec', ns, 'true'], { timeoutMs: 10_000 });
      return null;
    } catch (error) {
      return `network namespaces are refused here: ${(error as Error).message}`;
    } finally {
      await run('ip', ['netns', 'del', ns]).catch(() => {});
    }
  })();
  return availability;
}

async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** SIGKILLs the processes in a namespace, waits for them to go, deletes it. */
async function deleteNamespace(ns: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', ns])
    .then((r) => r.stdout.split(/\s+/).filter(Boolean).map(Number))
    .catch(() => [] as number[]);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (let i = 0; i < 100 && pids.some(isPidAlive); i++) await sleep(20);
  await run('ip', ['netns', 'del', ns]).catch(() => {});
}

function deleteNamespaceSync(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    /* best effort */
  }
}

/** A /24 in 10.213.0.0/16 that the root namespace does not use. */
async function pickSubnet(): Promise<string> {
  const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show']).catch(() => ({ stdout: '' }));
  // routes too: a root leg (or anything else) routing a 10.213.<x>.0/24 makes that subnet taken
  const routes = await run('ip', ['-4', 'route', 'show']).then((r) => r.stdout, () => '');
  const used = new Set([...`${stdout}\n${routes}`.matchAll(/(?:inet |^)10\.213\.(\d+)\./gm)].map((m) => Number(m[1])));
  for (;;) {
    const x = randomInt(1, 255);
    if (!used.has(x)) return `10.213.${x}`;
  }
}

/**
 * Creates `hostCount` hosts (network namespaces, loopback up, `eth0` on a shared bridge) named
 * after `name` (letters and digits, ≤ 12). Remove it with `remove()` (also done on process exit).
 * `options.rootLeg` also joins the test's own namespace to the bridge (see the module comment).
 */
export async function createNetwork(name: string, hostCount: number, options: CreateNetworkOptions = {}): Promise<TestNetwork> {
  const started = Date.now();
  if (!/^[a-z0-9]{1,12}$/i.test(name)) throw new Error(`createNetwork: name ${JSON.stringify(name)} must be 1-12 letters or digits`);
  if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > 250) throw new Error('createNetwork: hostCount must be 1..250');
  const reason = await netnsUnavailableReason();
  if (reason) throw new Error(`createNetwork: ${reason}`);

  const base = `${PREFIX}${name}-p${process.pid}-${randomBytes(3).toString('hex')}`;
  const bridgeNs = `${base}-br`;
  const net = await pickSubnet();
  const hosts: NetnsHost[] = Array.from({ length: hostCount }, (_, i) => ({
    index: i,
    name: `host${i}`,
    ns: `${base}-h${i}`,
    address: `${net}.${i + 1}`,
  }));
  const created: string[] = [];
  // ≤ 15 characters (IFNAMSIZ): `rl` and 12 random hex digits, unique on the machine in practice
  const rootInterface = options.rootLeg ? `rl${randomBytes(6).toString('hex')}` : null;
  const rootAddress = options.rootLeg ? `${net}.254` : null;
  let rootLegCreated = false;
  const deleteRootLegSync = () => {
    if (!rootLegCreated || !rootInterface) return;
    rootLegCreated = false;
    try {
      execFileSync('ip', ['link', 'del', rootInterface], { stdio: 'ignore' });
    } catch {
      /* gone with the bridge namespace already */
    }
  };
  const unregisterExit = onProcessExit(() => {
    deleteRootLegSync();
    [...created].reverse().forEach(deleteNamespaceSync);
  });
  const remove = async () => {
    // The root leg first (the one piece in the machine's namespace), then the hosts (their
    // processes, then their veths go), the bridge last.
    if (rootLegCreated && rootInterface) {
      rootLegCreated = false;
      await run('ip', ['link', 'del', rootInterface], { timeoutMs: 10_000 }).catch(() => {});
    }
    await Promise.all(created.filter((ns) => ns !== bridgeNs).map(deleteNamespace));
    if (created.includes(bridgeNs)) await deleteNamespace(bridgeNs);
    created.length = 0;
    unregisterExit();
  };
  const ip = (...args: string[]) => run('ip', args, { timeoutMs: 10_000 });

  try {
    await ip('netns', 'add', bridgeNs);
    created.push(bridgeNs);
    await ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
    await Promise.all(
      hosts.map(async (host) => {
        await ip('netns', 'add', host.ns);
        created.push(host.ns);
        // A new namespace's loopback is DOWN: without this not even 127.0.0.1 works inside it.
        await ip('-n', host.ns, 'link', 'set', 'lo', 'up');
      }),
    );
    // veth creation in one namespace, serially (concurrent RTNL changes are fine, but errors read better).
    for (const [i, host] of hosts.entries()) {
      await ip('-n', bridgeNs, 'link', 'add', `vh${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns);
      await ip('-n', bridgeNs, 'link', 'set', `vh${i}`, 'master', 'br0', 'up');
      await ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
      await ip('-n', host.ns, 'link', 'set', 'eth0', 'up');
    }
    if (rootInterface && rootAddress) {
      // created in the root namespace with its peer (`vroot`) moved straight into the bridge's
      await ip('link', 'add', rootInterface, 'type', 'veth', 'peer', 'name', 'vroot', 'netns', bridgeNs);
      rootLegCreated = true;
      await ip('-n', bridgeNs, 'link', 'set', 'vroot', 'master', 'br0', 'up');
      await ip('addr', 'add', `${rootAddress}/24`, 'dev', rootInterface);
      await ip('link', 'set', rootInterface, 'up');
    }
  } catch (error) {
    await remove();
    throw error;
  }

  const exec = (hostIndex: number, command: string, args: readonly string[] = [], options: NetnsSpawnOptions = {}): ChildProcess => {
    const host = hosts[hostIndex];
    if (!host) throw new Error(`no host ${hostIndex} (there are ${hosts.length})`);
    const { dieWithParent = true, ...spawnOptions } = options;
    const wrapped = dieWithParent && hasPdeathsig() ? ['setpriv', '--pdeathsig', 'KILL', '--', command, ...args] : [command, ...args];
    return spawn('ip', ['netns', 'exec', host.ns, ...wrapped], spawnOptions);
  };

  return {
    name,
    subnet: `${net}.0/24`,
    bridgeNs,
    hosts,
    rootAddress,
    rootInterface,
    setupMs: Date.now() - started,
    exec,
    run: (hostIndex, command, args = [], options = {}) =>
      new Promise((resolve, reject) => {
        const { timeoutMs = 30_000, ...rest } = options;
        const child = exec(hostIndex, command, args, { ...rest, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${command} ${args.join(' ')} in ${hosts[hostIndex]?.ns} timed out after ${timeoutMs} ms\n${stdout}${stderr}`));
        }, timeoutMs);
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr });
        });
      }),
    remove,
  };
}

/**
 * Deletes namespaces starting with `prefix` (default `relay-`) left behind by runs that were killed
 * (the pid in their name is gone), with any process still in them. Networks of live runs are kept.
 * Answers the deleted namespaces.
 */
export async function removeStaleNetworks(prefix = PREFIX): Promise<string[]> {
  if (!(await netnsAvailable())) return [];
  const stale = (await listNamespaces()).filter((ns) => {
    if (!ns.startsWith(prefix)) return false;
    const match = STALE_PATTERN.exec(ns);
    return match !== null && !isPidAlive(Number(match[1]));
  });
  // Host namespaces before bridge namespaces.
  stale.sort((a, b) => Number(a.endsWith('-br')) - Number(b.endsWith('-br')));
  for (const ns of stale) await deleteNamespace(ns);
  return stale;
}
