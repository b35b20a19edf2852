#!/bin/sh
# Writes NAME.streams.json beside every media fixture in testdata/es and testdata/containers: ffprobe's streams,
# video packets (decode order, with the container's pos/pts/dts) and GOP time codes, reduced to what
# `pvrlink inspect --json` reports (test/support/ffprobe-streams.ts does the reduction). Needs Debian's ffmpeg.
# tools/inspect-command.ffprobe.test.ts compares inspect with these files, and regenerates them live (and
# requires them unchanged) where ffprobe is installed.
set -eu
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)
BUN=${BUN:-$ROOT/node_modules/.bin/bun}
"$BUN" -e '
  import { join } from "node:path";
  import { ffprobeSummary, mediaFixtures, TESTDATA } from "'"$ROOT"'/test/support/ffprobe-streams.ts";
  for (const file of mediaFixtures()) {
    const summary = await ffprobeSummary(file);
    await Bun.write(join(TESTDATA, `${file}.streams.json`), `${JSON.stringify(summary)}\n`);
    console.log(`${file}.streams.json: ${summary.streams.length} streams, ${summary.packets.length} packets`);
  }
'
