/** @module The shape every `pvrlink` subcommand has, and the exit codes they share. */

/** Exit codes of every command: 0 success, 1 bad input (a file, a network peer), 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;
/** Interrupted by SIGINT (Ctrl-C): 128 + 2, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/**
 * Wrong flags or arguments: a command line that does not follow the command's syntax, so a SyntaxError with the
 * stable code ERR_USAGE. main prints the message and the command's help, and exits 2.
 */
export class UsageError extends SyntaxError {
  readonly code = "ERR_USAGE";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Bad input: a file that is not what it should be, a refusal from a peer; main prints it and exits 1. It is
 * the CLI boundary's one translation of many meanings (a codec RangeError, an EIO, a node's refusal), so it stays
 * a plain Error whose `code` says which; the error it translates rides along as `cause`.
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "InputError";
  }
}

/** One subcommand: its one-line summary, its --help text and its entry point. */
export interface Command {
  readonly summary: string;
  readonly help: string;
  /** The help for a subcommand named in args (`pvrlink control serve --help`); undefined: the command's help. */
  helpFor?(args: readonly string[]): string | undefined;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}
