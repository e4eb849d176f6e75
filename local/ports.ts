import { createServer, type Server } from "node:net";
import { StartupError } from "./errors";

/** A port this process has bound and keeps bound until a server takes it over (or it is released). */
export interface HeldPort {
  port: number;
  /** The bound socket: `httpServer.listen(held.socket)` takes it over without ever letting go of the port. */
  socket: Server;
  release(): Promise<void>;
}

/**
 * Binds `port` (0: any free one) and keeps it bound, so no other process (a parallel test's database,
 * say) can take it between choosing it and serving on it. Fails with a one-line StartupError if it is
 * taken. `host` unset binds every interface, as `server.listen(port)` does.
 */
export function holdPort(port: number, what: string, host?: string): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const socket = createServer();
    socket.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new StartupError(`Port ${port} (${what}) is already in use: stop what uses it or choose another port.`)
          : error,
      ),
    );
    const bound = () => {
      const address = socket.address();
      const chosen = typeof address === "object" && address ? address.port : port;
      resolve({
        port: chosen,
        socket,
        release: () => new Promise<void>((done) => (socket.listening ? socket.close(() => done()) : done())),
      });
    };
    if (host) socket.listen(port, host, bound);
    else socket.listen(port, bound);
  });
}

/**
 * Checks that `port` is free (0 picks a free one) and returns it, released: for a port another process
 * (DynamoDB Local's JVM) will bind, which cannot take over a socket of ours.
 */
export async function reservePort(port: number, what: string, host = "127.0.0.1"): Promise<number> {
  const held = await holdPort(port, what, host);
  await held.release();
  return held.port;
}
