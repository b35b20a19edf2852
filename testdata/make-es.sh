#!/bin/sh
# Regenerates the MPEG-1/2 video elementary-stream fixtures in testdata/es/ with Debian's ffmpeg (5.1) and bun.
# Every stream is testsrc2 at 176x144, fixed quantiser (-q:v) so sizes stay small and output is deterministic
# with -bitexact. Beside each NAME, NAME.ffprobe.json holds ffprobe's view in stream (decode) order: one entry
# per frame, {"pos", "type"}, sorted by pkt_pos (ffprobe -show_frames lists display order; for a raw ES the
# packet position is the byte offset where ffmpeg's parser starts the frame's packet). Field pairs are one
# frame to ffprobe.
#
# Field pictures: ffmpeg's mpeg2video encoder only writes frame pictures, so mpeg2-fields.m2v is made by
# encoding each field of the source (separatefields, 176x72 at 50 Hz) as an intra frame picture and relabelling
# the pictures as top/bottom fields (test/support/intra-fields-from-frames.ts). The script then checks the
# result honestly: ffmpeg must decode it to exactly the pixels of weaving the fields it encoded.
set -eu
cd "$(dirname "$0")/es"
ROOT=$(cd ../.. && pwd)
BUN=${BUN:-$ROOT/node_modules/.bin/bun}

# -flags is one option: a later -flags replaces an earlier one, so every call passes its flags in one string.
BITEXACT="-fflags +bitexact"
SRC="-f lavfi -i testsrc2=size=176x144:rate=25"

# shellcheck disable=SC2086
enc() { out=$1; frames=$2; flags=$3; shift 3; ffmpeg -v error -y $SRC -frames:v "$frames" "$@" -flags:v "$flags" $BITEXACT -f rawvideo "$out"; }

enc mpeg2-gop12.m2v 36 +bitexact -c:v mpeg2video -g 12 -bf 2 -q:v 10
enc mpeg2-gop15.m2v 45 +bitexact -c:v mpeg2video -g 15 -bf 2 -q:v 12
enc mpeg2-intra.m2v 16 +bitexact -c:v mpeg2video -g 1 -q:v 12
enc mpeg2-no-b.m2v 36 +bitexact -c:v mpeg2video -g 12 -bf 0 -q:v 10
enc mpeg2-closed-gop.m2v 36 +bitexact+cgop -c:v mpeg2video -g 12 -bf 2 -sc_threshold 1000000000 -q:v 10
enc mpeg2-interlaced-frames.m2v 24 +bitexact+ilme+ildct -c:v mpeg2video -g 12 -bf 2 -top 1 -q:v 10
enc mpeg1-gop15.m1v 45 +bitexact -c:v mpeg1video -g 15 -bf 2 -q:v 10

# Field pictures (see above): 24 intra fields = 12 frames, a GOP every 6 frames. -frames:v counts fields here.
ffmpeg -v error -y $SRC -frames:v 24 -vf separatefields -c:v mpeg2video -g 1 -q:v 10 -flags:v +bitexact $BITEXACT \
  -f rawvideo fields-as-frames.tmp.m2v
"$BUN" -e '
  import { intraFieldsFromFrames } from "'"$ROOT"'/test/support/intra-fields-from-frames.ts";
  const input = new Uint8Array(await Bun.file("fields-as-frames.tmp.m2v").arrayBuffer());
  await Bun.write("mpeg2-fields.m2v", intraFieldsFromFrames(input, 6));
'
woven=$(ffmpeg -v error -i fields-as-frames.tmp.m2v -vf weave=first_field=top -f framemd5 - | grep -v '^#')
fields=$(ffmpeg -v error -i mpeg2-fields.m2v -f framemd5 - | grep -v '^#')
rm -f fields-as-frames.tmp.m2v
if [ "$woven" != "$fields" ] || [ -z "$fields" ]; then
  echo "make-es.sh: mpeg2-fields.m2v does not decode to the woven fields" >&2
  exit 1
fi

for f in *.m2v *.m1v; do
  ffprobe -v error -show_entries frame=pkt_pos,pict_type -of json "$f" |
    "$BUN" -e '
      const frames = (await Bun.stdin.json()).frames.map((f) => ({ pos: Number(f.pkt_pos), type: f.pict_type }));
      frames.sort((a, b) => a.pos - b.pos);
      console.log(JSON.stringify({ file: process.argv[1], frames }));
    ' "$f" > "$f.ffprobe.json"
done
ls -l
