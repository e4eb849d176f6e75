import type { SSTConfig } from "sst";
import { Alerts } from "./stacks/alerts";
import { Api, API_DOMAIN_STACKS } from "./stacks/api";
import { Monitoring } from "./stacks/monitoring";
import { Realtime } from "./stacks/realtime";
import { Storage } from "./stacks/storage";
import { Stream } from "./stacks/stream";
import { Web } from "./stacks/web";

export default {
  config() {
    return { name: "agentorg", region: "us-east-1" };
  },
  stacks(app) {
    // Alerts first: every alarm notifies its topic. Realtime before Api: the HTTP functions get the
    // WebSocket management endpoint. Api holds the HTTP API; one stack per manifest domain adds its
    // routes to it. Monitoring last: it reads what the others built.
    app.stack(Storage).stack(Alerts).stack(Realtime).stack(Api);
    for (const domain of API_DOMAIN_STACKS) app.stack(domain);
    app.stack(Stream).stack(Web).stack(Monitoring);
  },
} satisfies SSTConfig;
