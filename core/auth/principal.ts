import { notFound } from "../errors";

/** The caller of a request, established from its credentials, never from the request body. */
export type Principal =
  | { kind: "operator" }
  | {
      kind: "org";
      orgId: string;
      keyId: string;
      /** The key's name, read with the key when authenticating, so records can name their actor without another read. */
      keyName?: string;
      /**
       * The models the key may request on the OpenAI-compatible routes, when it is restricted (set by
       * HTTP authentication from the key's record). Absent: every model.
       */
      models?: readonly string[];
      /** The key's own monthly model budget in USD (as LiteLLM's virtual keys), when it has one. */
      monthlyBudgetUsd?: number;
    };

export const OPERATOR: Principal = { kind: "operator" };

/** How a principal is recorded as the actor of a change (`updatedBy`, audit `actor`). */
export const actorOf = (principal: Principal): string =>
  principal.kind === "operator" ? "operator" : `key:${principal.keyId}`;

/**
 * Tenant isolation in one line: an organization's key sees only its own organization. Anything else
 * answers 404 exactly as a missing id does, so ids of other tenants cannot even be probed.
 */
export function assertCanSee(principal: Principal, orgId: string, what = "Organization", id = orgId): void {
  if (principal.kind === "org" && principal.orgId !== orgId) throw notFound(what, id);
}

/** The organization a tenant-scoped request acts on: always the key's, never one named in the body. */
export function tenantOf(principal: Principal): string | undefined {
  return principal.kind === "org" ? principal.orgId : undefined;
}
