import { readFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 for a server that a test starts afterwards (a child process, usually).
 *
 * Not `listen(0)` then close: that port goes back to the kernel's ephemeral range, where another
 * `listen(0)` or the local end of any outgoing connection (the many Redis and PostgreSQL clients
 * a booting gateway opens) may take it before the server binds it; a gateway once failed to start
 * in CI that way. Ports handed out here come from below the ephemeral range, which the kernel
 * never assigns by itself, are never handed out twice by one process, and are free when handed
 * out. Only where that range is too small does this fall back to `listen(0)`.
 */
const LOWEST = 10_000;
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  const below = ephemeralStart();
  if (below - LOWEST >= 1000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = LOWEST + Math.floor(Math.random() * (below - LOWEST));
      if (handedOut.has(port)) continue;
      if (await canListen(port)) {
        handedOut.add(port);
        return port;
      }
    }
  }
  for (;;) {
    const port = await listenAnyPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** The first port of Linux's ephemeral range (`ip_local_port_range`); 32768 elsewhere. */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 0 ? first : 32768;
  } catch {
    return 32768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function listenAnyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
