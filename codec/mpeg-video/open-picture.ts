/** @module The picture VideoIndexer has open: what it knows of it before the start code that ends it. */
import type { PictureStructure, PictureType } from "../recording-index.ts";

/** Filled from the picture header and its coding extension; a PictureRecord once the picture ends. */
export interface OpenPicture {
  offset: number;
  type: PictureType;
  structure: PictureStructure;
  temporalReference: number;
  gop: number;
  hasSlices: boolean;
}
