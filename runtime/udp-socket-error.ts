/** @module The error a Bun UDP socket's error handler was given, whichever way this Bun calls the handler. */

/**
 * The handler's error as an Error. Bun 1.4.5 calls `error(err)` with the error as its only argument, older Buns
 * `error(socket, err)`, and an ICMP refusal read from the error queue has come with no error object at all:
 * handlers take `...args` and pass them here, so none of these reads as `undefined`.
 */
export function udpSocketError(args: readonly unknown[]): Error {
  const found = args.find((a) => a instanceof Error);
  if (found instanceof Error) return found;
  const last = args[args.length - 1];
  return new Error(`UDP socket error: ${last === undefined ? "no error object" : String(last)}`);
}
