/** @module Which rule picks a send's route (seed A variation 10): secrecy first, then the recorder's size rule, then the type. */
import type { RecordingType } from "../library/detect-recording-type.ts";

/**
 * secret: the whole recording sealed through the node; small: the whole recording sealed through the node
 * because the size rule says so (not secret: filed as not secret); data: whole, direct; split: video split.
 */
export type SendRoute = "secret" | "small" | "data" | "split";

/** What chose the route: the secret flag, the recorder's size rule (`sealedBelowBytes`), or the recording's type. */
export type RouteRule = "secret" | "size" | "type";

export interface RouteChoice {
  route: SendRoute;
  rule: RouteRule;
}

export interface RouteFacts {
  type: RecordingType;
  secret: boolean;
  size: number;
  /** The recorder's size rule: a non-secret recording smaller than this goes sealed through the node. */
  sealedBelowBytes?: number | undefined;
}

/**
 * Seed A variation 10: "this determination may instead be made according to the size". A secret recording
 * always goes through the node whatever its size (the seed's first embodiment); a small one (a still image)
 * also does, sealed, when the recorder has a size rule; a large one goes directly (data) or split (video).
 * The node's own threshold (S2202, 413 transfer_too_large) still bounds what may go through it.
 */
export function chooseRoute(f: RouteFacts): RouteChoice {
  if (f.secret) return { route: "secret", rule: "secret" };
  if (f.sealedBelowBytes !== undefined && f.size < f.sealedBelowBytes)
    return { route: "small", rule: "size" };
  return { route: f.type === "data" ? "data" : "split", rule: "type" };
}
