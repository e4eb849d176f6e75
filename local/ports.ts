import { createServer } from "node:net";
import { StartupError } from "./errors";

/** Fails with a one-line StartupError if `port` is taken; port 0 picks a free one. Returns the port. */
export function reservePort(port: number, what: string, host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new StartupError(`Port ${port} (${what}) is already in use: stop what uses it or choose another port.`)
          : error,
      ),
    );
    server.listen(port, host, () => {
      const address = server.address();
      const chosen = typeof address === "object" && address ? address.port : port;
      server.close(() => resolve(chosen));
    });
  });
}
