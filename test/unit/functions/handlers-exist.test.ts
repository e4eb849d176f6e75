import { describe, expect, it } from "vitest";
import { fallback, httpRoutes, streams, wsRoutes } from "../../../functions/routes";
import { loadHandler } from "../../../local/handlers";

describe("route manifest", () => {
  it.each([...httpRoutes, ...wsRoutes, ...streams, fallback].map((r) => [r.handler]))("%s exists and is a function", async (handler) => {
    await expect(loadHandler(handler)).resolves.toBeTypeOf("function");
  });
});
