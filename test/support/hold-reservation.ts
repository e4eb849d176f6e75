/**
 * A chat query's invocation in a process of its own, for test/faults/deadlines.test.ts to kill: it plans
 * the query (reserving its budget in the table named by the environment, as a deployed function does),
 * prints the reservation as one JSON line, then waits on the model (the test's fake never answers)
 * until it is killed, leaving the reservation open as a Lambda killed at its timeout would.
 *
 * Env: the functions' settings (TABLE_NAME, DYNAMODB_ENDPOINT, the model endpoints, ...), plus ORG_ID
 * and KEY_ID of the organization and key it acts for.
 */
import { chat as chatService } from "../../functions/lib/services/chat";

const chat = chatService();
const plan = await chat.plan(
  { kind: "org", orgId: process.env.ORG_ID!, keyId: process.env.KEY_ID! },
  { model: "auto", max_tokens: 50, messages: [{ role: "user", content: "a question whose process dies" }] },
  { deadline: Date.now() + 29_000 },
);
process.stdout.write(`${JSON.stringify({ reservation: plan.reservation })}\n`);
await chat.complete(plan);
