/** @module Loads the Reflect metadata API that tsyringe (under @peculiar/x509) requires before it is evaluated. */
// A module of its own: the bundler evaluates ES modules in import order but runs a CommonJS package (as
// reflect-metadata is) where its importer's body starts, which is after that importer's ES imports. Imported
// first, this module's body has run before @peculiar/x509's.
import "reflect-metadata";
