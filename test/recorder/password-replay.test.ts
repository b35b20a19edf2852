/** @module Integration: a one-time password stays used when the callee's recorder restarts within the connect window. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CalleeStage,
  dialRecorder,
  startCalleeStage,
  startRecorder,
} from "../support/recorder-harness.ts";

let stage: CalleeStage;

beforeAll(async () => {
  stage = await startCalleeStage();
}, 30_000);
afterAll(() => stage?.[Symbol.asyncDispose]());

test("a replayed REQUEST after the callee crashes and restarts inside the connect window is refused, and the password left sessions.json", async () => {
  const { node, alice } = stage;
  const q = await alice.query("grandma");
  if (q.status !== 200) throw new Error(`expected a live session, got ${q.status}`);
  await stage.rec.log.waitForLine(new RegExp(`recorder session session=${q.session.id}`));
  const first = await dialRecorder(stage.rec, alice, q.session);

  // The daemon dies with the session open (a crash or power cut: it could not forget the grant on the way out)
  // and starts again on the same data directory, well inside the 120 s connect window.
  stage.rec.log.proc.kill("SIGKILL");
  await stage.rec.log.exited;
  await first.close().catch(() => {});
  const sessions = readFileSync(join(stage.rec.dataDir, "sessions.json"), "utf8");
  expect(sessions).toContain(q.session.id);
  expect(sessions).not.toContain(q.session.password);
  stage.rec = await startRecorder(node, "grandma", { dataDir: stage.rec.dataDir, enroll: false });
  await stage.rec.log.waitForLine(/recorder registered/);

  const replay = await dialRecorder(stage.rec, alice, q.session).then(
    async (c) => {
      await c.close();
      return "accepted";
    },
    (err: unknown) => String((err as { code?: unknown }).code),
  );
  expect(replay).not.toBe("accepted");
  expect(replay).toMatch(/^ERR_DIRECT_/);
}, 60_000);
