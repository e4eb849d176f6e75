import { z } from "../../core/shared/zod";
import { idSchema } from "../../core/shared/id.schema";

/** An entity id in a path (any case, lowercased). A malformed one cannot exist, so the wrapper answers 404 for it, not 400. */
export const Id = idSchema();
export const IdParams = z.object({ id: Id });
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
});
export const Page = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), cursor: z.string().optional() }).meta({ id });
