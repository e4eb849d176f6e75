import { createHash } from "node:crypto";
import { RemovalPolicy, Stack as CdkStack } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { CfnRoute, type CfnStage } from "aws-cdk-lib/aws-apigatewayv2";
import { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { FunctionProps, Function as SstFunction, Stack, Table } from "sst/constructs";
import type { Permission } from "../functions/manifest.types";
import { TABLE_DEFINITION } from "../core/db/table";
import { NODEJS_BUNDLING } from "./bundling";
import {
  CONNECTIONS_SUPPRESSION,
  suppressSstCustomResourceHandler,
  suppressUnder,
  suppressWhere,
  XRAY_SUPPRESSION,
} from "./nag";
import { type PermissionTargets, modelKeyParameters, policyStatements, stageOf } from "./permissions";

/**
 * What every stack shares: the Lambda settings, the environment the functions read
 * (functions/lib/config.ts), and which stages keep their data when removed.
 */

/**
 * Stages whose resources may be destroyed with the stage (`sst remove`). Every other stage is treated
 * as holding real data: the table gets deletion protection and is retained, logs are retained. The list
 * is explicit (rather than "everything but prod") because losing a tenant's data by naming a stage
 * unexpectedly is far worse than a leftover empty table.
 */
const EPHEMERAL_STAGES = new Set(["dev", "test", "local", "ci"]);

/** True for stages whose data may go with them: dev, test, local, ci and preview stages `pr-<n>`. */
export function isEphemeralStage(stage: string): boolean {
  return EPHEMERAL_STAGES.has(stage) || /^pr-\d+$/.test(stage);
}

/** RETAIN for stages with real data, DESTROY for ephemeral ones. */
export function removalPolicyFor(stage: string): RemovalPolicy {
  return isEphemeralStage(stage) ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/** The same minimum length the functions enforce for a plaintext key (functions/lib/config.ts). */
const MIN_OPERATOR_KEY_LENGTH = 16;

/**
 * The SHA-256 hex of the operator key, read from `AGENTORG_OPERATOR_KEY` at synthesis. Only the hash
 * reaches the Lambda environment (visible to anyone who may read function configuration), so the
 * plaintext key never leaves the deploying machine. Fails synthesis, naming the variable, when it is
 * missing or too short: a deployed API without an operator key could never be administered.
 */
export function operatorKeySha256(env: NodeJS.ProcessEnv = process.env): string {
  const key = env.AGENTORG_OPERATOR_KEY;
  if (!key) {
    throw new Error(
      "AGENTORG_OPERATOR_KEY is not set: export the platform operator key before `npm run deploy` " +
        "(only its SHA-256 is put into the functions' environment).",
    );
  }
  if (key.length < MIN_OPERATOR_KEY_LENGTH) {
    throw new Error(`AGENTORG_OPERATOR_KEY must be at least ${MIN_OPERATOR_KEY_LENGTH} characters.`);
  }
  return createHash("sha256").update(key).digest("hex");
}

/** The environment every function gets: the table, the operator key's hash, the log level. */
export function baseEnvironment(table: Table): Record<string, string> {
  return {
    TABLE_NAME: table.tableName,
    AGENTORG_OPERATOR_KEY_SHA256: operatorKeySha256(),
    POWERTOOLS_LOG_LEVEL: "INFO",
    ...modelEnvironment(stageOf(CdkStack.of(table))),
  };
}

/** Model settings that are not secret, taken from the deploy environment when set. */
const MODEL_SETTINGS = [
  "AGENTORG_SLM_BASE_URL",
  "AGENTORG_LLM_BASE_URL",
  "AGENTORG_SLM_MODEL",
  "AGENTORG_LLM_MODEL",
  "AGENTORG_MODEL_TIMEOUT_MS",
  "AGENTORG_MODEL_MAX_RETRIES",
  "AGENTORG_DEFAULT_MAX_TOKENS",
] as const;

/**
 * The functions' model settings: endpoints and defaults from the deploy environment (no endpoint: the
 * offline responder), and for each tier with an endpoint the SSM SecureString that holds its API key
 * (`/agentorg/<stage>/{slm,llm}-api-key`, read at cold start by functions with `models:keys`), so no
 * key is ever in a function's configuration. A missing parameter means the endpoint needs no key.
 */
export function modelEnvironment(stage: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of MODEL_SETTINGS) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  const parameters = modelKeyParameters(stage);
  if (env.AGENTORG_SLM_BASE_URL) env.AGENTORG_SLM_API_KEY_PARAMETER = parameters.slm;
  if (env.AGENTORG_LLM_BASE_URL) env.AGENTORG_LLM_API_KEY_PARAMETER = parameters.llm;
  return env;
}

/** The table as a permission target: its ARN and the names of its GSIs (from TABLE_DEFINITION). */
export function tableTarget(table: Table): PermissionTargets["table"] {
  return { arn: table.tableArn, indexNames: Object.keys(TABLE_DEFINITION.globalIndexes) };
}

/**
 * Lambda settings shared by every function. arm64 is cheaper per GB-second; 512 MB because Lambda
 * scales CPU with memory and the bundles (zod schemas, AWS SDK, openai) start noticeably faster with
 * it; 29 s because API Gateway gives up at 30 s, and a function running past that is billed for an
 * answer nobody receives.
 */
export const FUNCTION_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm_64",
  memorySize: "512 MB",
  timeout: "29 seconds",
  // SST v2 uploads source maps for its Console only; the Lambda runtime does not apply them (that needs
  // --enable-source-maps, slow at cold start with bundles this size), and keepNames already keeps
  // function names readable in stack traces. Skipping them halves what each deploy builds and uploads.
  nodejs: NODEJS_BUNDLING,
} as const satisfies Partial<FunctionProps>;

/** How long function and access logs are kept. */
export const LOG_RETENTION = RetentionDays.ONE_MONTH;
export const LOG_RETENTION_NAME = "one_month" as const;

/** A function of the platform and the manifest domain (functions/manifest/<domain>.ts) it serves. */
export interface GroupedFunction {
  /** The manifest domain: the monitoring group of its errors and throttles (stacks/monitoring.ts). */
  group: string;
  /** The route key (`GET /api/v1/health`, `$connect`) or consumer name it runs. */
  name: string;
  fn: SstFunction;
}

export interface FunctionSpec {
  handler: string;
  permissions: readonly Permission[];
}

/**
 * The props of one manifest function: its handler, the Lambda defaults, its environment, and its own
 * role and log group. The role is created here instead of by CDK because CDK's default role carries the
 * AWSLambdaBasicExecutionRole managed policy (write to any log group in the account); this one may only
 * write to the function's own log group, and otherwise holds exactly the statements of its route's
 * permissions (plus X-Ray, added by the tracing setting).
 */
export function manifestFunction(
  stack: Stack,
  id: string,
  spec: FunctionSpec,
  options: { environment: Record<string, string>; targets: PermissionTargets },
): FunctionProps {
  const logGroup = new LogGroup(stack, `${id}Logs`, {
    retention: LOG_RETENTION,
    removalPolicy: removalPolicyFor(stack.stage),
  });
  const role = new Role(stack, `${id}Role`, {
    assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
    description: `agentorg ${spec.handler}`,
  });
  role.addToPolicy(
    new PolicyStatement({
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [logGroup.logGroupArn],
    }),
  );
  const managesConnections = spec.permissions.includes("connections:manage");
  suppressUnder(role, managesConnections ? [XRAY_SUPPRESSION, CONNECTIONS_SUPPRESSION] : [XRAY_SUPPRESSION]);
  return {
    ...FUNCTION_DEFAULTS,
    handler: spec.handler,
    role,
    logGroup,
    environment: options.environment,
    permissions: policyStatements(stack, spec.permissions, options.targets),
  };
}

/** A CloudFormation-safe construct id for a route (stacks/bundling.ts, which names the bundles too). */
export { constructId } from "./bundling";

/**
 * The cdk-nag suppressions every stack needs: SST's custom-resource handler, and the "latest runtime"
 * rule for functions on the pinned runtime (only exactly that one: an older runtime still fails).
 */
export function applyStackSuppressions(stack: Stack): void {
  suppressSstCustomResourceHandler(stack);
  suppressWhere(stack, (node) =>
    node instanceof CfnFunction && node.runtime === FUNCTION_DEFAULTS.runtime
      ? [
          {
            id: "AwsSolutions-L1",
            reason: `${FUNCTION_DEFAULTS.runtime} is deliberate: it matches the Node 22 the project builds and tests with (the node@22 devDependency), and SST v2 (pinned at 2.49.8) knows no later Node runtime. Move with the toolchain.`,
          },
        ]
      : [],
  );
}

/**
 * Orders an API Gateway stage after every route under `scope`. A stage's per-route settings (throttles)
 * name route keys, API Gateway refuses settings for a route that does not exist yet ("Unable to find
 * Route by key ... within the provided RouteSettings"), and nothing else orders the stage after them.
 */
export function dependOnRoutes(stage: CfnStage, scope: Construct): void {
  for (const node of scope.node.findAll()) if (node instanceof CfnRoute) stage.addDependency(node);
}
