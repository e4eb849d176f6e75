import { ID_PATTERN } from "../ids";
import { z } from "./zod";

/**
 * An entity id from outside (path, body, query, tool arguments). Ids are ULIDs, and Crockford base32 is
 * case-insensitive: an uppercase id names the same entity, so it is accepted and lowercased to the form
 * `newId` stores (keys are case-sensitive, so the lowercasing must happen before any lookup).
 */
export const idSchema = (message = "must be an id") => z.string().toLowerCase().regex(ID_PATTERN, message);
