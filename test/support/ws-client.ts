import WebSocket from "ws";

/** A WebSocket test client that queues frames so a test can await the next one of a type. */
export class TestSocket {
  private frames: any[] = [];
  private waiters: { type: string; resolve: (frame: any) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString());
      const waiter = this.waiters.find((w) => w.type === frame.type);
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      } else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a socket; rejects with the HTTP status when `$connect` refuses it. */
  static open(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      socket.once("open", () => resolve(new TestSocket(socket)));
      socket.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode })));
      socket.once("error", reject);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  next(type: string, timeoutMs = 5_000): Promise<any> {
    const queued = this.frames.findIndex((f) => f.type === type);
    if (queued >= 0) return Promise.resolve(this.frames.splice(queued, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${type}' frame within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ type, resolve: (frame) => (clearTimeout(timer), resolve(frame)) });
    });
  }

  /** The close code once the server closes the socket, or "open" if it is still open after `ms`. */
  closedWithin(ms: number): Promise<number | "open"> {
    return Promise.race([this.closed.then((c) => c.code), new Promise<"open">((resolve) => setTimeout(() => resolve("open"), ms))]);
  }

  close(): void {
    this.socket.close();
  }
}
