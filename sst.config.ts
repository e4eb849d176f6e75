import type { SSTConfig } from "sst";
import { Api } from "./stacks/api";
import { Realtime } from "./stacks/realtime";
import { Storage } from "./stacks/storage";
import { Stream } from "./stacks/stream";
import { Web } from "./stacks/web";

export default {
  config() {
    return { name: "agentorg", region: "us-east-1" };
  },
  stacks(app) {
    // Realtime before Api: the HTTP functions get the WebSocket management endpoint.
    app.stack(Storage).stack(Realtime).stack(Api).stack(Stream).stack(Web);
  },
} satisfies SSTConfig;
