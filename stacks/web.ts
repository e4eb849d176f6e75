import { type StackContext, StaticSite, use } from "sst/constructs";
import { Api } from "./api";
import { applyStackSuppressions } from "./defaults";
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

/**
 * The Web stack for a site source: an S3 bucket behind CloudFront serving the built dashboard, pointed
 * at the deployed APIs. The URLs are only known at deploy time: SST builds with `{{ VITE_API_URL }}`
 * placeholders and replaces them in the uploaded files. A factory so tests can give a prebuilt folder
 * (synthesis would otherwise run the build).
 */
export function createWebStack(source: SiteSource) {
  function Web({ stack }: StackContext) {
    const api = use(Api);
    const realtime = use(Realtime);
    const site = new StaticSite(stack, "Dashboard", {
      ...source,
      environment: { VITE_API_URL: api.url, VITE_WS_URL: realtime.url },
      // SST writes env typings next to a vite.config.ts (web/src/sst-env.d.ts by default); keep that
      // generated file out of the source tree. The dashboard reads both variables as optional strings.
      vite: { types: "../.sst/web-env.d.ts" },
      cdk: { bucket: { enforceSSL: true } },
    });

    suppressUnder(site, [
      {
        id: "AwsSolutions-S1",
        reason:
          "The site bucket holds only the public dashboard build and is read solely by CloudFront; server access logs would record nothing but CloudFront's own fetches.",
      },
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
        id: "AwsSolutions-CFR3",
        reason:
          "No access logs for static dashboard files: nothing tenant-specific is served here; API requests are logged by the HTTP and WebSocket APIs' access logs.",
      },
      {
        id: "AwsSolutions-CFR4",
        reason:
          "The distribution uses the default *.cloudfront.net certificate, for which CloudFront does not allow choosing the minimum TLS version; a custom domain would be needed.",
      },
      {
        id: "AwsSolutions-CFR7",
        reason:
          "SST v2's StaticSite builds its S3 origin with an origin access identity (S3Origin); the bucket still blocks all public access.",
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "SST-internal: the site's upload policy lets SST's custom-resource handler copy the build's objects (any key, so bucket/*) from CDK's asset bucket into the site bucket.",
        appliesTo: [
          { regex: "/^Resource::<DashboardS3Bucket[A-Za-z0-9]+\\.Arn>\\/\\*$/g" },
          { regex: "/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-[0-9]+-[a-z0-9-]+\\/\\*$/g" },
        ],
      },
    ]);
    applyStackSuppressions(stack);

    stack.addOutputs({ DashboardUrl: site.url });
    return { site, url: site.url };
  }
  // SST names a stack after its function; bundlers may rename an inner function (Web2).
  return Object.defineProperty(Web, "name", { value: "Web" });
}

/** The dashboard, built from web/ at deploy. */
export const Web = createWebStack(DASHBOARD);
