/** @module Markdown imported `with { type: "text" }` is its text (Bun bundles it into the binary). */
declare module "*.md" {
  const text: string;
  export default text;
}
