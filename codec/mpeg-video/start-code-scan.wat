;; @module The start-code search kernel of StartCodeScanner, in WebAssembly with 128-bit SIMD.
;;
;; Source of start-code-scan-wasm.ts (generated: `bun scripts/assemble-wasm.ts`; a test fails when the two
;; differ). Why WebAssembly: JavaScript can only ask the engine for the next 00 01 one call at a time, and a
;; 5 Mbit/s MPEG-2 stream has a slice start code every ~750 bytes, so the scan spent most of its time in
;; ~375k calls per 270 MB and in warming up the JIT for them. Here the whole window is searched in one call,
;; 128 prefix positions per step, and JavaScript sees only the start codes it asked for (docs/benchmarks.md).
;;
;; A start code is the byte-aligned prefix 00 00 01 and one code byte (ISO/IEC 13818-2 5.2.3, 6.2.1
;; Table 6-1); codes 0x01-0xAF are slices (6.2.4). With `collapse` set, only the first slice start code of
;; each run of consecutive slices is reported: an indexer needs where a run begins, not every slice.
;;
;; The memory is the one the codec's kernels share (codec/kernel-memory.ts, which also fixes where chunks and
;; results lie); this module only imports it.
(module
  (import "kernel" "memory" (memory 1))

  ;; 1 while the last start code reported (or skipped) was a slice: the state that collapsing carries
  ;; from one call to the next. The caller sets it before a call and reads it after.
  (global $inSliceRun (export "inSliceRun") (mut i32) (i32.const 0))

  ;; Records the prefix at address $j (its first zero byte) at $out unless it is a repeated slice; returns
  ;; the next free result address.
  (func $found (param $j i32) (param $out i32) (param $collapse i32) (result i32)
    (local $code i32)
    (local.set $code (i32.load8_u offset=3 (local.get $j)))
    ;; slice_start_code 0x01-0xAF (ISO/IEC 13818-2 6.2.4)
    (if (i32.and (i32.ne (local.get $code) (i32.const 0x00)) (i32.le_u (local.get $code) (i32.const 0xaf)))
      (then
        (if (i32.and (local.get $collapse) (global.get $inSliceRun))
          (then (return (local.get $out))))
        (global.set $inSliceRun (i32.const 1)))
      (else (global.set $inSliceRun (i32.const 0))))
    (i32.store (local.get $out) (local.get $j))
    (i32.add (local.get $out) (i32.const 4)))

  ;; Records the prefix at base + k for every bit k set in $bits, lowest first; returns the next free result
  ;; address.
  (func $each (param $base i32) (param $bits i64) (param $out i32) (param $collapse i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $bits)))
        (local.set $out
          (call $found (i32.add (local.get $base) (i32.wrap_i64 (i64.ctz (local.get $bits))))
            (local.get $out) (local.get $collapse)))
        ;; clear the lowest set bit
        (local.set $bits (i64.and (local.get $bits) (i64.sub (local.get $bits) (i64.const 1))))
        (br $next)))
    (local.get $out))

  ;; Records every prefix that begins at p .. stop - 1, 16 positions at a time (stop - p a multiple of 16,
  ;; stop + 3 <= the window's end); returns the next free result address.
  (func $sixteens (param $p i32) (param $stop i32) (param $out i32) (param $collapse i32) (result i32)
    (loop $step
      ;; Bit k set: a whole prefix 00 00 01 begins at p + k.
      (local.set $out
        (call $each (local.get $p)
          (i64.extend_i32_u (i8x16.bitmask
            (v128.and
              (v128.and
                (i8x16.eq (v128.load (local.get $p)) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=1 (local.get $p)) (v128.const i64x2 0 0)))
              (i8x16.eq (v128.load offset=2 (local.get $p)) (i8x16.splat (i32.const 1))))))
          (local.get $out) (local.get $collapse)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $step (i32.lt_s (local.get $p) (local.get $stop))))
    (local.get $out))

  ;; scan(p, end, out, collapse) -> out'
  ;;
  ;; Reports, in order, every 00 00 01 that begins at an address j with p <= j and j + 3 < end, so its code
  ;; byte lies before `end`. Each result is the i32 address j, stored from `out` on; the return value is the
  ;; address after the last result. Reads no byte at or past `end`. A window of W positions yields at most
  ;; W / 3 + 1 results (two prefixes are at least three bytes apart).
  (func (export "scan") (param $p i32) (param $end i32) (param $out i32) (param $collapse i32) (result i32)
    (local $stop i32)
    (local $bits i64)
    (local $z0 v128) (local $z1 v128) (local $z2 v128) (local $z3 v128)
    (local $z4 v128) (local $z5 v128) (local $z6 v128) (local $z7 v128)
    (local $last i32)

    ;; 128 positions per step: p .. p + 127, whose code bytes reach p + 130, so a step needs p + 131 <= end.
    (block $blockDone
      (loop $block
        (br_if $blockDone (i32.gt_s (i32.add (local.get $p) (i32.const 131)) (local.get $end)))
        ;; z_k, lane i: byte p + 16k + i ORed with the byte after it, 0 exactly where two zeros begin.
        (local.set $z0 (v128.or (v128.load offset=0 (local.get $p)) (v128.load offset=1 (local.get $p))))
        (local.set $z1 (v128.or (v128.load offset=16 (local.get $p)) (v128.load offset=17 (local.get $p))))
        (local.set $z2 (v128.or (v128.load offset=32 (local.get $p)) (v128.load offset=33 (local.get $p))))
        (local.set $z3 (v128.or (v128.load offset=48 (local.get $p)) (v128.load offset=49 (local.get $p))))
        (local.set $z4 (v128.or (v128.load offset=64 (local.get $p)) (v128.load offset=65 (local.get $p))))
        (local.set $z5 (v128.or (v128.load offset=80 (local.get $p)) (v128.load offset=81 (local.get $p))))
        (local.set $z6 (v128.or (v128.load offset=96 (local.get $p)) (v128.load offset=97 (local.get $p))))
        (local.set $z7 (v128.or (v128.load offset=112 (local.get $p)) (v128.load offset=113 (local.get $p))))
        ;; Cheap test first: any zero lane in the lane-wise minimum, one branch per 128 positions. Coded video
        ;; holds 00 00 in about one step of eight (mostly slice start codes), so most steps end here.
        (if (i32.eqz (i8x16.all_true
              (i8x16.min_u
                (i8x16.min_u (i8x16.min_u (local.get $z0) (local.get $z1)) (i8x16.min_u (local.get $z2) (local.get $z3)))
                (i8x16.min_u (i8x16.min_u (local.get $z4) (local.get $z5)) (i8x16.min_u (local.get $z6) (local.get $z7))))))
          (then
            ;; The exact prefixes of the step as two 64-bit masks, from the z_k already in registers: the
            ;; 16-position masks of one call each cost 1.4 times as much on the bench streams.
            ;; Bit k set: a whole prefix 00 00 01 begins at p + k.
            (local.set $bits
              (i64.or (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (v128.and
                (i8x16.eq (local.get $z0) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=2 (local.get $p)) (i8x16.splat (i32.const 1))))))
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.and
                (i8x16.eq (local.get $z1) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=18 (local.get $p)) (i8x16.splat (i32.const 1)))))) (i64.const 16)))
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.and
                (i8x16.eq (local.get $z2) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=34 (local.get $p)) (i8x16.splat (i32.const 1)))))) (i64.const 32)))
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.and
                (i8x16.eq (local.get $z3) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=50 (local.get $p)) (i8x16.splat (i32.const 1)))))) (i64.const 48))))
            (local.set $out (call $each (local.get $p) (local.get $bits) (local.get $out) (local.get $collapse)))
            ;; Bit k set: a whole prefix 00 00 01 begins at p + 64 + k.
            (local.set $bits
              (i64.or (i64.or (i64.or (i64.extend_i32_u (i8x16.bitmask (v128.and
                (i8x16.eq (local.get $z4) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=66 (local.get $p)) (i8x16.splat (i32.const 1))))))
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.and
                (i8x16.eq (local.get $z5) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=82 (local.get $p)) (i8x16.splat (i32.const 1)))))) (i64.const 16)))
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.and
                (i8x16.eq (local.get $z6) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=98 (local.get $p)) (i8x16.splat (i32.const 1)))))) (i64.const 32)))
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.and
                (i8x16.eq (local.get $z7) (v128.const i64x2 0 0))
                (i8x16.eq (v128.load offset=114 (local.get $p)) (i8x16.splat (i32.const 1)))))) (i64.const 48))))
            (local.set $out (call $each (i32.add (local.get $p) (i32.const 64)) (local.get $bits) (local.get $out) (local.get $collapse)))))
        (local.set $p (i32.add (local.get $p) (i32.const 128)))
        (br $block)))

    ;; Then 16 positions per step while p + 19 <= end.
    (local.set $stop
      (i32.add (local.get $p)
        (i32.and (i32.sub (i32.sub (local.get $end) (i32.const 3)) (local.get $p)) (i32.const -16))))
    (if (i32.lt_s (local.get $p) (local.get $stop))
      (then
        (local.set $out (call $sixteens (local.get $p) (local.get $stop) (local.get $out) (local.get $collapse)))
        (local.set $p (local.get $stop))))

    ;; The last positions one at a time: j + 3 < end.
    (local.set $last (i32.sub (local.get $end) (i32.const 4)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.gt_s (local.get $p) (local.get $last)))
        (if (i32.and
              (i32.eqz (i32.load16_u (local.get $p)))
              (i32.eq (i32.load8_u offset=2 (local.get $p)) (i32.const 1)))
          (then (local.set $out (call $found (local.get $p) (local.get $out) (local.get $collapse)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tail)))
    (local.get $out))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Picture heads: the second pass of an indexing scan, over the start codes scan() reported.
  ;;
  ;; A coded MPEG-2 picture opens with the same few start codes every time: its picture header, its picture
  ;; coding extension, perhaps user data and more extensions, then its slices (ISO/IEC 13818-2 6.2.3, 6.2.3.1,
  ;; 6.2.2.2.2, 6.2.4). When every header of that head is well-formed, the fields an index keeps (type,
  ;; temporal_reference, picture_structure) are all that reading it can yield, so it is reported as one record
  ;; instead of its three or more start codes, and JavaScript runs once per picture instead of once per start
  ;; code. Anything else (an unusual or damaged header, a head cut by the end of the window, every other start
  ;; code) is reported as the plain start code, for the indexer to read as before: the index is the same
  ;; either way (video-indexer.test.ts runs every stream both ways).
  ;;
  ;; The checks are those of parsePictureType() and parsePictureStructure() on the bytes the indexer would
  ;; have: a header ends where the next start code begins.

  ;; The record of the last head $head() accepted: temporal_reference | picture_coding_type << 10 |
  ;; picture_structure << 13.
  (global $headInfo (mut i32) (i32.const 0))

  ;; The picture head whose picture start code is the result at address $i (results end at $n): the address
  ;; of the result holding its first slice start code, with its record in $headInfo, or 0 when the head is not
  ;; one to report as a record.
  (func $head (param $i i32) (param $n i32) (result i32)
    (local $a i32) (local $c1 i32) (local $len i32) (local $type i32) (local $b3 i32) (local $b4 i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $structure i32) (local $j i32) (local $code i32)
    ;; The picture header: from its start code at $a to the next start code at $c1, which must be the
    ;; extension's (extension_start_code 0xB5).
    (if (i32.ge_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)) (then (return (i32.const 0))))
    (local.set $a (i32.load (local.get $i)))
    (local.set $c1 (i32.load offset=4 (local.get $i)))
    (if (i32.ne (i32.load8_u offset=3 (local.get $c1)) (i32.const 0xb5)) (then (return (i32.const 0))))
    (local.set $len (i32.sub (local.get $c1) (local.get $a)))
    ;; temporal_reference (10), picture_coding_type (3), vbv_delay (16), then for P and B pictures
    ;; full_pel_forward_vector and forward_f_code (4), for B also the backward pair (4), then
    ;; extra_bit_picture, which must be 0 (ISO/IEC 13818-2 6.2.3): 4 or 5 bytes after the start code.
    (if (i32.lt_u (local.get $len) (i32.const 8)) (then (return (i32.const 0))))
    (local.set $type (i32.and (i32.shr_u (i32.load8_u offset=5 (local.get $a)) (i32.const 3)) (i32.const 7)))
    (local.set $b3 (i32.load8_u offset=7 (local.get $a)))
    (block $typeOk
      ;; picture_coding_type 1 (I): extra_bit_picture at bit 29
      (if (i32.eq (local.get $type) (i32.const 1))
        (then
          (br_if $typeOk (i32.eqz (i32.and (local.get $b3) (i32.const 0x04))))
          (return (i32.const 0))))
      ;; 2 (P) and 3 (B) only; 0 forbidden, 4 (D) MPEG-1 only, 5-7 reserved (Table 6-12): left to JavaScript
      (if (i32.or (i32.lt_u (local.get $type) (i32.const 2)) (i32.gt_u (local.get $type) (i32.const 3)))
        (then (return (i32.const 0))))
      (if (i32.lt_u (local.get $len) (i32.const 9)) (then (return (i32.const 0))))
      (local.set $b4 (i32.load8_u offset=8 (local.get $a)))
      ;; forward_f_code (bits 30-32) 0 is forbidden (6.3.9)
      (if (i32.eqz (i32.or (i32.shl (i32.and (local.get $b3) (i32.const 3)) (i32.const 1))
                           (i32.shr_u (local.get $b4) (i32.const 7))))
        (then (return (i32.const 0))))
      (if (i32.eq (local.get $type) (i32.const 2))
        (then
          ;; extra_bit_picture at bit 33
          (br_if $typeOk (i32.eqz (i32.and (local.get $b4) (i32.const 0x40))))
          (return (i32.const 0))))
      ;; backward_f_code (bits 34-36) 0 is forbidden; extra_bit_picture at bit 37
      (if (i32.eqz (i32.and (i32.shr_u (local.get $b4) (i32.const 3)) (i32.const 7))) (then (return (i32.const 0))))
      (br_if $typeOk (i32.eqz (i32.and (local.get $b4) (i32.const 0x04))))
      (return (i32.const 0)))
    ;; The picture coding extension: from $c1 to the next start code (ISO/IEC 13818-2 6.2.3.1).
    (local.set $len (i32.sub (i32.load offset=8 (local.get $i)) (local.get $c1)))
    ;; extension_start_code_identifier (4) and the f_codes (16), intra_dc_precision and picture_structure (4),
    ;; 10 flags: 5 bytes after the start code, 8 bytes when composite_display_flag (bit 33) adds 20 bits.
    (if (i32.lt_u (local.get $len) (i32.const 9)) (then (return (i32.const 0))))
    (local.set $x0 (i32.load8_u offset=4 (local.get $c1)))
    (local.set $x1 (i32.load8_u offset=5 (local.get $c1)))
    (local.set $x2 (i32.load8_u offset=6 (local.get $c1)))
    ;; picture_coding_extension_id 8 (Table 6-2)
    (if (i32.ne (i32.shr_u (local.get $x0) (i32.const 4)) (i32.const 8)) (then (return (i32.const 0))))
    (if (i32.and (i32.ne (i32.and (i32.load8_u offset=8 (local.get $c1)) (i32.const 0x40)) (i32.const 0))
                 (i32.lt_u (local.get $len) (i32.const 11)))
      (then (return (i32.const 0))))
    ;; picture_structure 0 is reserved (Table 6-14); no f_code may be 0 (6.3.10)
    (local.set $structure (i32.and (local.get $x2) (i32.const 3)))
    (if (i32.or
          (i32.or (i32.eqz (local.get $structure)) (i32.eqz (i32.and (local.get $x0) (i32.const 15))))
          (i32.or
            (i32.or (i32.eqz (i32.shr_u (local.get $x1) (i32.const 4))) (i32.eqz (i32.and (local.get $x1) (i32.const 15))))
            (i32.eqz (i32.shr_u (local.get $x2) (i32.const 4)))))
      (then (return (i32.const 0))))
    ;; Then user data (0xB2) and further extensions (0xB5), which an index does not read, and the first slice.
    (local.set $j (i32.add (local.get $i) (i32.const 8)))
    (block $found
      (loop $more
        (if (i32.ge_u (local.get $j) (local.get $n)) (then (return (i32.const 0))))
        (local.set $code (i32.load8_u offset=3 (i32.load (local.get $j))))
        (br_if $found (i32.and (i32.ne (local.get $code) (i32.const 0)) (i32.le_u (local.get $code) (i32.const 0xaf))))
        (if (i32.and (i32.ne (local.get $code) (i32.const 0xb2)) (i32.ne (local.get $code) (i32.const 0xb5)))
          (then (return (i32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $more)))
    (global.set $headInfo
      (i32.or (i32.or
        (i32.or (i32.shl (i32.load8_u offset=4 (local.get $a)) (i32.const 2))
                (i32.shr_u (i32.load8_u offset=5 (local.get $a)) (i32.const 6)))
        (i32.shl (local.get $type) (i32.const 10)))
        (i32.shl (local.get $structure) (i32.const 13))))
    (local.get $j))

  ;; heads(i, n, out) -> out'
  ;;
  ;; Rewrites the results of scan() at [i, n) as records of two i32 from `out` on: (address, -1) for a start
  ;; code reported as it is, (address of the picture start code, record) for a picture head, whose start codes
  ;; up to and including its first slice's are not reported otherwise. Returns the address after the last.
  (func (export "heads") (param $i i32) (param $n i32) (param $out i32) (result i32)
    (local $j i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (local.get $out) (i32.load (local.get $i)))
        (local.set $j (i32.const 0))
        ;; picture_start_code 0x00 (ISO/IEC 13818-2 6.2.3)
        (if (i32.eqz (i32.load8_u offset=3 (i32.load (local.get $i))))
          (then (local.set $j (call $head (local.get $i) (local.get $n)))))
        (if (local.get $j)
          (then
            (i32.store offset=4 (local.get $out) (global.get $headInfo))
            (local.set $i (i32.add (local.get $j) (i32.const 4))))
          (else
            (i32.store offset=4 (local.get $out) (i32.const -1))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $next)))
    (local.get $out))
)
