import { Duration, Fn } from "aws-cdk-lib";
import { HeadersFrameOption, HeadersReferrerPolicy, ResponseHeadersPolicy, type ResponseSecurityHeadersBehavior } from "aws-cdk-lib/aws-cloudfront";
import { S3BucketOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { type StackContext, StaticSite, use } from "sst/constructs";
import { Api } from "./api";
import { applyStackSuppressions, isEphemeralStage, removalPolicyFor } from "./defaults";
import { suppressUnder } from "./nag";
import { Realtime } from "./realtime";

/** Where the dashboard's files come from. */
export interface SiteSource {
  /** The site folder; the build command runs there. */
  path: string;
  /** Builds the site; omitted when `buildOutput` is already built. */
  buildCommand?: string;
  /** The built files, relative to `path`. */
  buildOutput: string;
}

/**
 * The dashboard as the repo builds it. `web/` has no package.json of its own: npm finds the root one
 * from there, so the build is the same `npm run build:web` (vite with web/vite.config.ts, into web/dist)
 * as everywhere else.
 */
export const DASHBOARD: SiteSource = { path: "web", buildCommand: "npm run build:web", buildOutput: "dist" };

/** How long CloudFront's access logs of the dashboard are kept. */
export const ACCESS_LOG_DAYS = 90;

/** HSTS max-age: two years (browsers' preload lists ask for at least one). */
export const HSTS_SECONDS = 2 * 365 * 24 * 3600;

/**
 * The dashboard's Content-Security-Policy for the given API origins (`https://host`, `wss://host`).
 * Scripts and styles are only the build's own files (vite extracts them; the dashboard and Swagger UI
 * set styles through the DOM's style properties, which CSP does not restrict, never with inline
 * `<style>` or `style=` markup); images also from `data:` (the favicon, Swagger UI's icons); the page
 * talks to nothing but the two APIs; no plugins, no framing, no foreign form targets or base URL.
 */
export function contentSecurityPolicy(origins: { api: string; realtime: string }): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ${origins.api} ${origins.realtime}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** `scheme://host` of a URL that may be a deploy-time token (`https://id.execute-api.../stage` -> `https://id.execute-api...`). */
function originOf(url: string, scheme: "https" | "wss"): string {
  return `${scheme}://${Fn.select(2, Fn.split("/", url))}`;
}

/** The security headers CloudFront adds to every dashboard response. */
export function securityHeaders(urls: { api: string; realtime: string }): ResponseSecurityHeadersBehavior {
  return {
    strictTransportSecurity: { accessControlMaxAge: Duration.seconds(HSTS_SECONDS), includeSubdomains: true, override: true },
    contentSecurityPolicy: {
      contentSecurityPolicy: contentSecurityPolicy({ api: originOf(urls.api, "https"), realtime: originOf(urls.realtime, "wss") }),
      override: true,
    },
    frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
    contentTypeOptions: { override: true },
    referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
  };
}

/**
 * The Web stack for a site source: a private S3 bucket behind CloudFront (origin access control, the
 * security headers above, access logs to a bucket of their own) serving the built dashboard, pointed
 * at the deployed APIs. The URLs are only known at deploy time: SST builds with `{{ VITE_API_URL }}`
 * placeholders and replaces them in the uploaded files. A factory so tests can give a prebuilt folder
 * (synthesis would otherwise run the build).
 */
export function createWebStack(source: SiteSource) {
  function Web({ stack }: StackContext) {
    const api = use(Api);
    const realtime = use(Realtime);
    const ephemeral = isEphemeralStage(stack.stage);
    // Our own bucket instead of SST's: SST's always auto-deletes its objects and is destroyed with the
    // stack. Outside ephemeral stages it is retained, and nothing empties it.
    const bucket = new Bucket(stack, "DashboardBucket", {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: removalPolicyFor(stack.stage),
      autoDeleteObjects: ephemeral,
    });
    // CloudFront's standard logs are written with an ACL, so this bucket allows ACLs (its owner still
    // owns every object); CloudFront cannot write to a KMS-encrypted bucket, hence S3-managed keys.
    const logs = new Bucket(stack, "DashboardLogs", {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(ACCESS_LOG_DAYS) }],
      removalPolicy: removalPolicyFor(stack.stage),
      autoDeleteObjects: ephemeral,
    });
    const headers = new ResponseHeadersPolicy(stack, "DashboardHeaders", {
      comment: "agentorg dashboard: HSTS, CSP, frame and content-type options",
      securityHeadersBehavior: securityHeaders({ api: api.url, realtime: realtime.url }),
    });
    const site = new StaticSite(stack, "Dashboard", {
      ...source,
      environment: { VITE_API_URL: api.url, VITE_WS_URL: realtime.url },
      // SST writes env typings next to a vite.config.ts (web/src/sst-env.d.ts by default); keep that
      // generated file out of the source tree. The dashboard reads both variables as optional strings.
      vite: { types: "../.sst/web-env.d.ts" },
      cdk: {
        bucket,
        distribution: {
          enableLogging: true,
          logBucket: logs,
          logFilePrefix: "cloudfront/",
          defaultBehavior: {
            // Origin access control (SigV4-signed requests from this distribution only), not SST's
            // origin access identity: the bucket policy names the distribution.
            origin: S3BucketOrigin.withOriginAccessControl(bucket),
            responseHeadersPolicy: headers,
          },
        },
      },
    });

    suppressUnder(site, [
      {
        id: "AwsSolutions-CFR1",
        reason: "The dashboard is a public static page of a global SaaS; there is no country to block.",
      },
      {
        id: "AwsSolutions-CFR2",
        reason:
          "Static files only; the APIs behind it are API Gateway endpoints with their own throttling. A WAF web ACL would cost more than the static site itself.",
      },
      {
        id: "AwsSolutions-CFR4",
        reason:
          "The distribution uses the default *.cloudfront.net certificate, for which CloudFront does not allow choosing the minimum TLS version; a custom domain would be needed.",
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "SST-internal: the site's upload policy lets SST's custom-resource handler copy the build's objects (any key, so bucket/*) from CDK's asset bucket into the site bucket.",
        appliesTo: [
          { regex: "/^Resource::<DashboardBucket[A-Za-z0-9]+\\.Arn>\\/\\*$/g" },
          { regex: "/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-[0-9]+-[a-z0-9-]+\\/\\*$/g" },
        ],
      },
    ]);
    suppressUnder(bucket, [
      {
        id: "AwsSolutions-S1",
        reason:
          "The site bucket holds only the public dashboard build and is read solely by CloudFront, whose access logs (DashboardLogs) record every request for it; S3 server access logs would add only CloudFront's own fetches.",
      },
    ]);
    suppressUnder(logs, [
      {
        id: "AwsSolutions-S1",
        reason: "This is the access-log bucket itself: logging its own accesses would log into itself or need a bucket for the logs of the logs.",
      },
    ]);
    applyStackSuppressions(stack);

    stack.addOutputs({ DashboardUrl: site.url });
    return { site, url: site.url, bucket, logs };
  }
  // SST names a stack after its function; bundlers may rename an inner function (Web2).
  return Object.defineProperty(Web, "name", { value: "Web" });
}

/** The dashboard, built from web/ at deploy. */
export const Web = createWebStack(DASHBOARD);
