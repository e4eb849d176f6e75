import { AspectPriority, Aspects, CfnResource, type IAspect } from "aws-cdk-lib";
import { NagSuppressions, type NagPackSuppression } from "cdk-nag";
import type { IConstruct } from "constructs";
import type { Stack } from "sst/constructs";

/**
 * cdk-nag (AwsSolutions) suppressions, declared by the stacks they concern so that deploying and
 * testing see the same ones. Each carries its reason, and each is as narrow as cdk-nag allows
 * (`appliesTo` for the granular IAM findings); anything real is fixed in the stack instead.
 */

/**
 * Applies suppressions to every CloudFormation resource under `scope`, at synthesis. An Aspect rather
 * than `NagSuppressions.addResourceSuppressions(scope, ..., true)` because SST creates part of a
 * construct's resources later, in `app.finish()` (function code, the static site's upload policy),
 * which a call made while building the stack would miss. MUTATING priority runs it on each resource
 * before the checks (default priority), whatever order the Aspects were added in.
 */
export function suppressUnder(scope: IConstruct, suppressions: NagPackSuppression[]): void {
  suppressWhere(scope, (node) => (node instanceof CfnResource ? suppressions : []));
}

/** Applies the suppressions `pick` returns for each construct under `scope`, at synthesis (see above). */
export function suppressWhere(scope: IConstruct, pick: (node: IConstruct) => NagPackSuppression[]): void {
  const aspect: IAspect = {
    visit(node) {
      const suppressions = pick(node);
      if (suppressions.length) NagSuppressions.addResourceSuppressions(node, suppressions);
    },
  };
  Aspects.of(scope).add(aspect, { priority: AspectPriority.MUTATING });
}

/** X-Ray's write actions have no resource-level permissions, so active tracing always means `*`. */
export const XRAY_SUPPRESSION: NagPackSuppression = {
  id: "AwsSolutions-IAM5",
  reason:
    "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (Resource must be *). The stack test checks that these are the only actions on *.",
  appliesTo: ["Resource::*"],
};

/** The connection id is the last segment of an @connections ARN and only exists at run time. */
export const CONNECTIONS_SUPPRESSION: NagPackSuppression = {
  id: "AwsSolutions-IAM5",
  reason:
    "execute-api:ManageConnections is scoped to one WebSocket API, one stage and one method each (POST/GET/DELETE); only the trailing connection id, unknown before run time, is a wildcard.",
  appliesTo: [{ regex: "/^Resource::arn:<AWS::Partition>:execute-api:.*/(POST|GET|DELETE)/@connections/\\*$/g" }],
};

/**
 * SST adds one custom-resource Lambda per stack (`CustomResourceHandler`: uploads site files, sets the
 * API Gateway logging role, ...). It is SST's code and role, not ours.
 */
export function suppressSstCustomResourceHandler(stack: Stack): void {
  suppressUnder(stack.customResourceHandler, [
    {
      id: "AwsSolutions-IAM4",
      reason:
        "SST-internal: SST's per-stack custom-resource handler uses the AWSLambdaBasicExecutionRole managed policy; its role is built by SST.",
      appliesTo: ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
    },
  ]);
}
