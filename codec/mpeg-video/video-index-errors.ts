/** @module The problems VideoIndexer reports in an MPEG-1/2 video elementary stream: each one's stable code and message. */
import { CappedErrors } from "../capped-errors.ts";
import type { IndexError, PictureRecord } from "../recording-index.ts";
import { SYSTEM_START_CODE_FIRST } from "./start-codes.ts";

/**
 * VideoIndexer's error list (capped: CappedErrors), one method per problem so its code and wording live in one
 * place. Messages say where ("At ES offset N: ...") unless they already start with "Cannot".
 */
export class VideoIndexErrors {
  readonly #errors = new CappedErrors();

  /** Problems found, in stream order (at most MAX_INDEX_ERRORS and one summary). */
  get list(): readonly IndexError[] {
    return this.#errors.list;
  }

  add(offset: number, code: string, why: string): void {
    this.#errors.add(offset, code, why.startsWith("Cannot") ? why : `At ES offset ${offset}: ${why}`);
  }

  /** Ends the list at the stream's end (`total` bytes), with a summary of what the cap dropped. */
  close(total: number): void {
    this.#errors.close(total, "ERR_ES_TOO_MANY_ERRORS", "errors");
  }

  unpairedField(f: PictureRecord): void {
    this.add(f.offset, "ERR_FIELD_UNPAIRED", `${f.structure} field picture ${f.serial} has no second field`);
  }

  truncated(offset: number): void {
    this.add(offset, "ERR_ES_TRUNCATED", "the stream ends inside a start code");
  }

  noStartCode(total: number): void {
    this.add(0, "ERR_ES_NO_START_CODE", `no start code in ${total} bytes: not an MPEG video stream`);
  }

  leadingBytes(firstStartCode: number): void {
    this.add(
      0,
      "ERR_ES_LEADING_BYTES",
      `${firstStartCode} bytes before the first start code belong to no picture`,
    );
  }

  orphanSlice(offset: number): void {
    this.add(offset, "ERR_ES_ORPHAN_SLICE", "slice data outside any picture belongs to no picture");
  }

  sequenceError(offset: number): void {
    this.add(
      offset,
      "ERR_ES_SEQUENCE_ERROR",
      "sequence_error_code: the encoder or transport flagged lost data",
    );
  }

  /** A system start code (ISO/IEC 13818-1) or a reserved one inside the video. */
  unexpectedStartCode(code: number, offset: number): void {
    if (code >= SYSTEM_START_CODE_FIRST)
      this.add(offset, "ERR_ES_SYSTEM_START_CODE", `system start code 0x${hex(code)} inside a video stream`);
    else this.add(offset, "ERR_ES_RESERVED_START_CODE", `reserved start code 0x${hex(code)}`);
  }

  noSequenceHeader(offset: number): void {
    this.add(offset, "ERR_ES_NO_SEQUENCE_HEADER", "the stream starts without a sequence header (mid-stream)");
  }

  emptyPicture(offset: number): void {
    this.add(offset, "ERR_PICTURE_EMPTY", "the picture has no slice data");
  }

  missingCodingExtension(offset: number): void {
    this.add(
      offset,
      "ERR_PICTURE_EXTENSION_MISSING",
      "an MPEG-2 picture header is not followed by its picture coding extension",
    );
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}
