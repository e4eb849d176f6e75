import { describe, expect, it } from "vitest";
import { fallback, httpRoutes, scheduled, streams, wsRoutes } from "../../../functions/routes";
import { loadHandler } from "../../../local/handlers";

describe("route manifest", () => {
  const redrives = streams.flatMap((s) => (s.redrive ? [{ handler: s.redrive.handler }] : []));
  it.each([...httpRoutes, ...wsRoutes, ...streams, ...redrives, ...scheduled, fallback].map((r) => [r.handler]))("%s exists and is a function", async (handler) => {
    await expect(loadHandler(handler)).resolves.toBeTypeOf("function");
  });
});
