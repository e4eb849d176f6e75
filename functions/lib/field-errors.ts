import type { FieldError } from "../../core/errors";
import type { z } from "../../core/shared/zod";

/**
 * A schema's refusal as the problem document's `errors`: one per issue, named by its path (an unknown
 * key by its name), for HTTP request parts and WebSocket frames alike.
 */
export function fieldErrorsOf(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join(".") : issue.code === "unrecognized_keys" ? (issue.keys ?? []).join(",") : "(root)",
    message: issue.message,
  }));
}
