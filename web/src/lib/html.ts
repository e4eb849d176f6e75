import { h } from "preact";
import htm from "htm";
import type { VNode } from "preact";

/** Preact's `h` with tagged-template syntax (htm): the dashboard needs no JSX compile step. */
export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
