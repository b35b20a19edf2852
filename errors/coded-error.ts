/**
 * @module Errors with a stable code: the built-in chosen by the code's meaning (RangeError, SyntaxError,
 * TypeError), and families (codec, STUN, trigger) that make and recognise their own.
 */

/** What a coded error carries besides its code and message. */
export interface CodedErrorOptions {
  /** The family's name, which also prefixes the error's name ("CodecRangeError"). */
  readonly family: string;
  /** Where the error is, for the families that can say (a parser's byte offset in its input). */
  readonly offset: number | undefined;
}

/**
 * A built-in subclassed only to carry the stable code, its family and the offset; named for both, e.g.
 * "CodecRangeError". The three classes below differ only in the built-in they extend.
 */
function codedClass(Base: ErrorConstructor) {
  return class extends Base {
    readonly family: string;
    readonly offset: number | undefined;
    constructor(
      readonly code: string,
      message: string,
      options: CodedErrorOptions,
    ) {
      super(message);
      this.name = `${options.family}${Base.name}`;
      this.family = options.family;
      this.offset = options.offset;
    }
  };
}

/** Data that ends early, or a length, count or value outside its range. */
export const CodedRangeError = codedClass(RangeError);
export type CodedRangeError = InstanceType<typeof CodedRangeError>;

/** Bytes or text that break their format's syntax, or a digest, CRC or MAC that does not match. */
export const CodedSyntaxError = codedClass(SyntaxError);
export type CodedSyntaxError = InstanceType<typeof CodedSyntaxError>;

/** Well-formed input of the wrong kind for the call. */
export const CodedTypeError = codedClass(TypeError);
export type CodedTypeError = InstanceType<typeof CodedTypeError>;

/** Any of the three. */
export type CodedError = CodedRangeError | CodedSyntaxError | CodedTypeError;

/**
 * Base of one family of codes. A family is a class that is never instantiated: it names itself, lists which of
 * its codes mean "out of range" and which "wrong kind" (the rest are syntax), makes its errors with make(), and
 * `e instanceof Family` recognises them, so callers and tests keep the one check they had. One code has one
 * class, so a caller that sorts by built-in and a caller that sorts by code agree.
 */
export abstract class ErrorFamily {
  static readonly family: string = "Coded";
  static readonly rangeCodes: ReadonlySet<string> = new Set();
  static readonly typeCodes: ReadonlySet<string> = new Set();

  declare readonly name: string;
  declare readonly message: string;
  declare readonly code: string;

  /** The error for `code` in this family, its built-in chosen by the code's meaning. */
  static make(code: string, message: string, offset?: number): CodedError {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the family make() is called on (CodecError, ...).
    return makeIn(this, code, { message, offset });
  }

  static [Symbol.hasInstance](e: unknown): e is CodedError {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the family on the right of `instanceof`.
    return inFamily(e, this.family);
  }
}

function makeIn(
  family: typeof ErrorFamily,
  code: string,
  { message, offset }: { message: string; offset: number | undefined },
): CodedError {
  const options = { family: family.family, offset };
  if (family.rangeCodes.has(code)) return new CodedRangeError(code, message, options);
  if (family.typeCodes.has(code)) return new CodedTypeError(code, message, options);
  return new CodedSyntaxError(code, message, options);
}

/** True for an error that `family`'s make() made. */
export function inFamily(e: unknown, family: string): e is CodedError {
  return (
    (e instanceof CodedRangeError || e instanceof CodedSyntaxError || e instanceof CodedTypeError) &&
    e.family === family
  );
}
