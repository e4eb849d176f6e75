import { render } from "preact";
import { App } from "./app";
import { html } from "./lib/html";
import "./style.css";

const root = document.getElementById("app")!;
// The static "Loading…" placeholder is for the moments before this script runs.
root.replaceChildren();
render(html`<${App} />`, root);
