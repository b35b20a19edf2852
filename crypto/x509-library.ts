/** @module @peculiar/x509, loaded after the Reflect metadata polyfill its tsyringe requires at load time. */
// Two synchronous requires, in this order. As ES imports the order is not kept: the runtime and the bundler
// both may evaluate the CommonJS x509 build (or its tsyringe) before a CommonJS reflect-metadata imported
// ahead of it, and tsyringe then throws "requires a reflect polyfill".
require("reflect-metadata");
export const x509: typeof import("@peculiar/x509") = require("@peculiar/x509");
