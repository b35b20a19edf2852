;; @module The start-code search kernel of StartCodeScanner, in WebAssembly with 128-bit SIMD.
;;
;; Source of start-code-scan-wasm.ts (generated: `bun scripts/assemble-wasm.ts`; a test fails when the two
;; differ). Why WebAssembly: JavaScript can only ask the engine for the next 00 01 one call at a time, and a
;; 5 Mbit/s MPEG-2 stream has a slice start code every ~750 bytes, so the scan spent most of its time in
;; ~375k calls per 270 MB and in warming up the JIT for them. Here the whole window is searched in one call,
;; 32 prefix positions per step, and JavaScript sees only the start codes it asked for (docs/benchmarks.md).
;;
;; A start code is the byte-aligned prefix 00 00 01 and one code byte (ISO/IEC 13818-2 5.2.3, 6.2.1
;; Table 6-1); codes 0x01-0xAF are slices (6.2.4). With `collapse` set, only the first slice start code of
;; each run of consecutive slices is reported: an indexer needs where a run begins, not every slice.
;;
;; The memory layout (where chunks and results lie) belongs to start-code-kernel.ts; this module only
;; declares that it has a memory.
(module
  (memory (export "memory") 1)

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

  ;; scan(p, end, out, collapse) -> out'
  ;;
  ;; Reports, in order, every 00 00 01 that begins at an address j with p <= j and j + 3 < end, so its code
  ;; byte lies before `end`. Each result is the i32 address j, stored from `out` on; the return value is the
  ;; address after the last result. Reads no byte at or past `end`. A window of W positions yields at most
  ;; W / 3 + 1 results (two prefixes are at least three bytes apart).
  (func (export "scan") (param $p i32) (param $end i32) (param $out i32) (param $collapse i32) (result i32)
    (local $m i32)
    (local $last i32)

    ;; 32 positions per step: p .. p + 31, whose code bytes reach p + 34, so a step needs p + 35 <= end.
    (block $vectorDone
      (loop $vector
        (br_if $vectorDone (i32.gt_s (i32.add (local.get $p) (i32.const 35)) (local.get $end)))
        ;; Cheap test first: a zero followed by a zero anywhere in the 32 positions. Coded slice data
        ;; rarely holds 00 00, so most steps end here.
        (if (v128.any_true
              (v128.or
                (v128.and
                  (i8x16.eq (v128.load (local.get $p)) (v128.const i64x2 0 0))
                  (i8x16.eq (v128.load offset=1 (local.get $p)) (v128.const i64x2 0 0)))
                (v128.and
                  (i8x16.eq (v128.load offset=16 (local.get $p)) (v128.const i64x2 0 0))
                  (i8x16.eq (v128.load offset=17 (local.get $p)) (v128.const i64x2 0 0)))))
          (then
            ;; Bit k set: a whole prefix 00 00 01 begins at p + k.
            (local.set $m
              (i32.or
                (i8x16.bitmask
                  (v128.and
                    (v128.and
                      (i8x16.eq (v128.load (local.get $p)) (v128.const i64x2 0 0))
                      (i8x16.eq (v128.load offset=1 (local.get $p)) (v128.const i64x2 0 0)))
                    (i8x16.eq (v128.load offset=2 (local.get $p)) (i8x16.splat (i32.const 1)))))
                (i32.shl
                  (i8x16.bitmask
                    (v128.and
                      (v128.and
                        (i8x16.eq (v128.load offset=16 (local.get $p)) (v128.const i64x2 0 0))
                        (i8x16.eq (v128.load offset=17 (local.get $p)) (v128.const i64x2 0 0)))
                      (i8x16.eq (v128.load offset=18 (local.get $p)) (i8x16.splat (i32.const 1)))))
                  (i32.const 16))))
            (block $bitsDone
              (loop $bits
                (br_if $bitsDone (i32.eqz (local.get $m)))
                (local.set $out
                  (call $found (i32.add (local.get $p) (i32.ctz (local.get $m))) (local.get $out) (local.get $collapse)))
                ;; clear the lowest set bit
                (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
                (br $bits)))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $vector)))

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
)
