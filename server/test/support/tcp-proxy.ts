import net from 'node:net';

/**
 * A TCP forwarder in front of the shared PostgreSQL or Redis, so a test can take "the server" away and
 * bring it back without touching the real one: `stop()` drops every connection and refuses new ones on
 * the same port (as a stopped server does), `start()` listens again on it.
 */
export async function startTcpProxy(targetUrl: string) {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || (target.protocol.startsWith('redis') ? 6379 : 5432));
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;

  async function listen(): Promise<void> {
    const listening = net.createServer((client) => {
      const upstream = net.connect(targetPort, target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => listening.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    port = (listening.address() as net.AddressInfo).port;
    server = listening;
  }

  await listen();
  return {
    /** `targetUrl` with the proxy's host and port. */
    url(): string {
      const url = new URL(targetUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    async stop(): Promise<void> {
      const closing = server;
      server = null;
      for (const socket of sockets) socket.destroy();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: listen,
    close(): Promise<void> {
      return this.stop();
    },
  };
}

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;
