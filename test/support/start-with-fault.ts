/**
 * `npm start`'s entry point (local/start.ts) with a bug injected once it is up: a throw from a timer
 * (FAULT=exception) or a rejected promise nobody awaits (FAULT=rejection), standing in for a defect
 * that escapes every guard. Used by test/integration/start-fatal.test.ts in a child process.
 */
export {};

const print = console.log.bind(console);
console.log = (...args: unknown[]): void => {
  print(args.map(String).join(" "));
  if (!String(args[0]).includes("agentorg is running")) return;
  setTimeout(() => {
    if (process.env.FAULT === "rejection") void Promise.reject(new Error("injected rejection"));
    else throw new Error("injected fault");
  }, 50);
};
await import("../../local/start");
