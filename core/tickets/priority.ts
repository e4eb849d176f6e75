import { PRIORITY_LABELS, type Priority } from "./ticket.schema";

/**
 * The ITIL / ServiceNow priority matrix: priority follows from impact and urgency (1 = high, 3 = low)
 * and is never set directly.
 *
 * |            | urgency 1 | urgency 2 | urgency 3 |
 * |------------|-----------|-----------|-----------|
 * | impact 1   | 1         | 2         | 3         |
 * | impact 2   | 2         | 3         | 4         |
 * | impact 3   | 3         | 4         | 5         |
 *
 * The matrix is exactly `impact + urgency - 1`; it is spelled out as a table so that an organization
 * lookup rule could later replace it without anyone having to rediscover the arithmetic.
 */
const MATRIX: Record<number, Record<number, Priority>> = {
  1: { 1: 1, 2: 2, 3: 3 },
  2: { 1: 2, 2: 3, 3: 4 },
  3: { 1: 3, 2: 4, 3: 5 },
};

/** The priority (1 Critical .. 5 Planning) of an impact and an urgency, each 1..3. */
export function priorityOf(impact: number, urgency: number): Priority {
  const priority = MATRIX[impact]?.[urgency];
  if (priority === undefined) throw new RangeError(`impact and urgency must be 1..3 (got ${impact}, ${urgency})`);
  return priority;
}

/** "Critical", "High", "Moderate", "Low", "Planning". */
export const priorityLabel = (priority: number): string => PRIORITY_LABELS[priority as Priority] ?? String(priority);
