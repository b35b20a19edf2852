#!/bin/sh
# Regenerates the container fixtures in testdata/containers/ with Debian's ffmpeg (5.1).
# Each recording is 36 frames of testsrc2 at 176x144 plus an audio track, so the demuxers meet audio and
# private PES/TS packets whose payload may contain 00 00 01 patterns. Beside each recording, NAME.types.json
# holds ffprobe's picture types in decode (stream) order: ffprobe -show_frames lists display order, so the
# frames are sorted by coded_picture_number, which ffmpeg's mpeg12 and h264 decoders number in decode order.
set -eu
cd "$(dirname "$0")/containers"

BITEXACT="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact"
SRC="-f lavfi -i testsrc2=size=176x144:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 1.44"
MPEG2="-c:v mpeg2video -g 12 -bf 2 -b:v 400k"

# shellcheck disable=SC2086
enc() { out=$1; shift; ffmpeg -v error -y $SRC "$@" $BITEXACT "$out"; }

enc ps-mpeg2.mpg $MPEG2 -c:a mp2 -b:a 64k -f mpeg
enc ps-dvd.vob $MPEG2 -c:a ac3 -b:a 64k -f vob
enc ps-mpeg1.mpg -c:v mpeg1video -g 15 -bf 2 -b:v 400k -c:a mp2 -b:a 64k -f mpeg
enc ts-mpeg2.ts $MPEG2 -c:a mp2 -b:a 64k -f mpegts
enc m2ts-mpeg2.m2ts $MPEG2 -c:a ac3 -b:a 64k -f mpegts -mpegts_m2ts_mode 1
X264="-c:v libx264 -threads 1 -preset veryfast -g 12 -bf 2 -c:a aac -b:a 32k"
# ffmpeg's default MP4 layout puts moov after mdat; faststart moves it first. Both must index.
enc mp4-h264.mp4 $X264 -f mp4
enc mp4-h264-faststart.mp4 $X264 -movflags +faststart -f mp4
enc ts-h264.ts $X264 -f mpegts

for f in ps-mpeg2.mpg ps-dvd.vob ps-mpeg1.mpg ts-mpeg2.ts m2ts-mpeg2.m2ts mp4-h264.mp4 mp4-h264-faststart.mp4 ts-h264.ts; do
  ffprobe -v error -select_streams v:0 -show_entries frame=coded_picture_number,pict_type -of csv=p=0 "$f" |
    awk -F, '$1 ~ /^[A-Z?]$/ && $2 ~ /^[0-9]+$/ { print $1 "," $2 }' |
    sort -t, -k2 -n |
    awk -F, -v f="$f" 'BEGIN { printf "{\"file\":\"%s\",\"decodeOrderTypes\":[", f }
      { printf "%s\"%s\"", (NR > 1 ? "," : ""), $1 }
      END { print "]}" }' > "$f.types.json"
done
ls -l
