;; @module The Transport Stream packet walk of TsDemuxer, in WebAssembly.
;;
;; Source of ts-packet-walk-wasm.ts (generated: `bun scripts/assemble-wasm.ts`; a test fails when the two
;; differ). Why WebAssembly: a 280 MB recording is 1.5 million packets, and TsDemuxer spent ~0.1 s reading
;; their headers and handing on their payloads one by one in JavaScript. Here the packets that need no
;; decision (video payload, a PES header held whole by its packet, audio and other PIDs, null packets) are
;; walked in one call: their continuity counters checked, the video payloads copied back to back into the
;; video block, and the packets that carried them described as runs. The first packet that needs more (a lost
;; sync byte, a reserved or bad header field, an error to report, a PES header spread over packets or unusual,
;; PSI, a scrambled video packet) stops the walk before any of its state is touched, and JavaScript handles it
;; the way it handles every packet without the kernel.
;;
;; Per-PID state (the caller's, at $state): int8 continuity_counter at $state + pid (-1 before the PID's first
;; packet), then uint8 kind at $state + 8192 + pid: KIND_OTHER (counters only), KIND_VIDEO (the video PID
;; while a PES is being passed through: payload copied), KIND_CALLER (the caller handles every packet of it),
;; or 3 + k for a PAT/PMT PID whose last packet the caller read cleanly and keeps in table slot k (192 bytes
;; each from $state + 16384): a packet equal to it but for its continuity_counter is a repeat the caller would
;; read to no effect, and the walk takes it; any other packet of the PID goes to the caller.
;;
;; Run records (four i32 at $runs): address of the first packet, payload start within the packet, payload
;; length, packet count; the k-th packet of a run lies `stride` bytes after the (k-1)-th.
;;
;; The memory is the one the codec's kernels share (codec/kernel-memory.ts); this module only imports it.
(module
  (import "kernel" "memory" (memory 1))

  ;; Next free byte of the video block, and its end: the walk stops before a payload that would pass it.
  (global $es (export "es") (mut i32) (i32.const 0))
  (global $esEnd (export "esEnd") (mut i32) (i32.const 0))
  ;; Next free run record.
  (global $runs (export "runs") (mut i32) (i32.const 0))

;; The length of the PES header at $h whose packet payload has $n bytes, when it is a video PES header in
  ;; the MPEG-2 syntax that this payload holds whole and that parsePesHeader() accepts; else -1 (ISO/IEC
  ;; 13818-1 2.4.3.6, 2.4.3.7).
  (func $pesHeaderLength (param $h i32) (param $n i32) (result i32)
    (local $sid i32) (local $packetLength i32) (local $flags2 i32) (local $dataLength i32) (local $ptsDts i32)
    (if (i32.lt_s (local.get $n) (i32.const 9)) (then (return (i32.const -1))))
    ;; packet_start_code_prefix 00 00 01
    (if (i32.or (i32.or (i32.load8_u (local.get $h)) (i32.load8_u offset=1 (local.get $h)))
          (i32.ne (i32.load8_u offset=2 (local.get $h)) (i32.const 1)))
      (then (return (i32.const -1))))
    ;; stream_id 0xE0-0xEF: a video stream (Table 2-22)
    (local.set $sid (i32.load8_u offset=3 (local.get $h)))
    (if (i32.ne (i32.and (local.get $sid) (i32.const 0xf0)) (i32.const 0xe0)) (then (return (i32.const -1))))
    ;; '10' before the PES_scrambling_control: the MPEG-2 syntax
    (if (i32.ne (i32.and (i32.load8_u offset=6 (local.get $h)) (i32.const 0xc0)) (i32.const 0x80))
      (then (return (i32.const -1))))
    (local.set $flags2 (i32.load8_u offset=7 (local.get $h)))
    (local.set $dataLength (i32.load8_u offset=8 (local.get $h)))
    ;; PES_header_data_length within the payload, and within PES_packet_length unless that is 0 (unbounded)
    (if (i32.gt_s (i32.add (i32.const 9) (local.get $dataLength)) (local.get $n)) (then (return (i32.const -1))))
    (local.set $packetLength
      (i32.or (i32.shl (i32.load8_u offset=4 (local.get $h)) (i32.const 8)) (i32.load8_u offset=5 (local.get $h))))
    (if (i32.and (i32.ne (local.get $packetLength) (i32.const 0))
          (i32.lt_s (local.get $packetLength) (i32.add (i32.const 3) (local.get $dataLength))))
      (then (return (i32.const -1))))
    ;; PTS_DTS_flags: '01' is forbidden; the time stamps must fit in PES_header_data_length
    (local.set $ptsDts (i32.shr_u (local.get $flags2) (i32.const 6)))
    (if (i32.eq (local.get $ptsDts) (i32.const 1)) (then (return (i32.const -1))))
    (if (i32.gt_s
          (select (i32.const 10) (select (i32.const 5) (i32.const 0) (i32.eq (local.get $ptsDts) (i32.const 2)))
            (i32.eq (local.get $ptsDts) (i32.const 3)))
          (local.get $dataLength))
      (then (return (i32.const -1))))
    (i32.add (i32.const 9) (local.get $dataLength)))

;; The 188 bytes of the TS packet at $a equal those at $ref, continuity_counter (low nibble of byte 3)
  ;; aside: eleven 16-byte vectors and the last 16 bytes (overlapping the eleventh).
  (func $sameTablePacket (param $a i32) (param $ref i32) (result i32)
    (local $eq v128)
    ;; every byte but the counter's nibble
    (local.set $eq
      (i8x16.eq
        (v128.and (v128.load (local.get $a)) (v128.const i8x16 -1 -1 -1 0xf0 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1))
        (v128.and (v128.load (local.get $ref)) (v128.const i8x16 -1 -1 -1 0xf0 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=64 (local.get $a)) (v128.load offset=64 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=80 (local.get $a)) (v128.load offset=80 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=96 (local.get $a)) (v128.load offset=96 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=112 (local.get $a)) (v128.load offset=112 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=128 (local.get $a)) (v128.load offset=128 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=144 (local.get $a)) (v128.load offset=144 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=160 (local.get $a)) (v128.load offset=160 (local.get $ref)))))
    (local.set $eq (v128.and (local.get $eq)
      (i8x16.eq (v128.load offset=172 (local.get $a)) (v128.load offset=172 (local.get $ref)))))
    (i8x16.all_true (local.get $eq)))

  ;; Walks the packets at $p, $p + $stride, ... while a whole packet lies before $end; the sync byte is $sync
  ;; bytes into each (4 in M2TS). Returns the address of the first packet not walked.
  (func (export "walk") (param $p i32) (param $end i32) (param $stride i32) (param $sync i32) (param $state i32)
    (result i32)
    (local $a i32) (local $b1 i32) (local $b3 i32) (local $afc i32) (local $pid i32) (local $kind i32)
    (local $payload i32) (local $length i32) (local $flags i32) (local $discontinuity i32)
    (local $cc i32) (local $last i32) (local $next i32) (local $n i32) (local $i i32)
    (local $run i32) (local $runNext i32) (local $o i32) (local $expect i32) (local $videoPid i32)
    (block $stop
      (loop $packet
        (local.set $next (i32.add (local.get $p) (local.get $stride)))
        (br_if $stop (i32.gt_u (local.get $next) (local.get $end)))
        (local.set $a (i32.add (local.get $p) (local.get $sync)))
        (block $done
        (block $emit
        ;; Nearly every packet is the next of the video PID's: payload only, no flag set, its counter one up.
        ;; Its four header bytes are then exactly $expect (set by the last video packet walked; 0 before one,
        ;; which four zero bytes must not match), and it is taken without reading its fields.
        (if (i32.and (i32.eq (i32.load (local.get $a)) (local.get $expect)) (i32.ne (local.get $expect) (i32.const 0)))
          (then
            (local.set $n (i32.const 184))
            (if (i32.le_s (i32.add (global.get $es) (local.get $n)) (global.get $esEnd))
              (then
                (local.set $payload (i32.add (local.get $a) (i32.const 4)))
                (local.set $pid (local.get $videoPid))
                (local.set $cc (i32.and (i32.shr_u (local.get $expect) (i32.const 24)) (i32.const 0x0f)))
                (i32.store8 (i32.add (local.get $state) (local.get $pid)) (local.get $cc))
                (br $emit)))))
        ;; sync_byte 0x47 (ISO/IEC 13818-1 2.4.3.3)
        (br_if $stop (i32.ne (i32.load8_u (local.get $a)) (i32.const 0x47)))
        (local.set $b1 (i32.load8_u offset=1 (local.get $a)))
        (local.set $b3 (i32.load8_u offset=3 (local.get $a)))
        ;; adaptation_field_control '00' is reserved (Table 2-5)
        (local.set $afc (i32.and (i32.shr_u (local.get $b3) (i32.const 4)) (i32.const 3)))
        (br_if $stop (i32.eqz (local.get $afc)))
        (local.set $pid
          (i32.or (i32.shl (i32.and (local.get $b1) (i32.const 0x1f)) (i32.const 8))
            (i32.load8_u offset=2 (local.get $a))))
          ;; null packets (PID 0x1FFF, Table 2-3) carry nothing, not even a counter to check
          (br_if $done (i32.eq (local.get $pid) (i32.const 0x1fff)))
          ;; transport_error_indicator
          (br_if $stop (i32.and (local.get $b1) (i32.const 0x80)))
          (local.set $kind (i32.load8_u offset=8192 (i32.add (local.get $state) (local.get $pid))))
          ;; KIND_CALLER
          (br_if $stop (i32.eq (local.get $kind) (i32.const 2)))
          ;; a scrambled video packet (transport_scrambling_control) needs the caller
          (br_if $stop (i32.and (i32.eq (local.get $kind) (i32.const 1)) (i32.ge_u (local.get $b3) (i32.const 0x40))))
          (local.set $payload (i32.add (local.get $a) (i32.const 4)))
          (local.set $discontinuity (i32.const 0))
          (if (i32.and (local.get $afc) (i32.const 2))
            (then
              ;; adaptation_field_length: 183 without payload, at most 182 with (2.4.3.5)
              (local.set $length (i32.load8_u (local.get $payload)))
              (br_if $stop
                (select
                  (i32.ne (local.get $length) (i32.const 183))
                  (i32.gt_u (local.get $length) (i32.const 182))
                  (i32.eq (local.get $afc) (i32.const 2))))
              (if (local.get $length)
                (then
                  (local.set $flags (i32.load8_u offset=1 (local.get $payload)))
                  ;; a PCR (flag 0x10) needs 6 bytes after the flags
                  (br_if $stop
                    (i32.and (i32.ne (i32.and (local.get $flags) (i32.const 0x10)) (i32.const 0))
                      (i32.lt_u (local.get $length) (i32.const 7))))
                  (local.set $discontinuity (i32.and (local.get $flags) (i32.const 0x80)))))
              (local.set $payload (i32.add (local.get $payload) (i32.add (local.get $length) (i32.const 1))))))
          ;; continuity_counter (2.4.3.3): +1 mod 16 per packet with payload, unchanged without; one duplicate
          ;; of a packet with payload may follow it and is dropped. A break stops the walk (the caller reports it).
          (local.set $cc (i32.and (local.get $b3) (i32.const 0x0f)))
          (local.set $last (i32.load8_s (i32.add (local.get $state) (local.get $pid))))
          (if (i32.and (i32.ge_s (local.get $last) (i32.const 0)) (i32.eqz (local.get $discontinuity)))
            (then
              (if (i32.and (local.get $afc) (i32.const 1))
                (then
                  ;; a duplicate: dropped
                  (br_if $done (i32.eq (local.get $cc) (local.get $last)))
                  (br_if $stop
                    (i32.ne (local.get $cc) (i32.and (i32.add (local.get $last) (i32.const 1)) (i32.const 0x0f)))))
                (else (br_if $stop (i32.ne (local.get $cc) (local.get $last)))))))
          ;; a table PID's packet: taken only as a repeat of the one in its slot
          (if (i32.ge_u (local.get $kind) (i32.const 3))
            (then
              (br_if $stop (i32.eqz (call $sameTablePacket (local.get $a)
                (i32.add (i32.add (local.get $state) (i32.const 16384))
                  (i32.mul (i32.sub (local.get $kind) (i32.const 3)) (i32.const 192))))))))
          (local.set $n (i32.const 0))
          ;; a video packet starting a PES without payload needs the caller
          (br_if $stop
            (i32.and (i32.and (i32.eq (local.get $kind) (i32.const 1)) (i32.and (local.get $b1) (i32.const 0x40)))
              (i32.eqz (i32.and (local.get $afc) (i32.const 1)))))
          (if (i32.and (i32.eq (local.get $kind) (i32.const 1)) (i32.and (local.get $afc) (i32.const 1)))
            (then
              (local.set $n (i32.sub (local.get $next) (local.get $payload)))
              ;; payload_unit_start_indicator: a PES header comes first; one the walk cannot take whole from
              ;; this packet needs the caller
              (if (i32.and (local.get $b1) (i32.const 0x40))
                (then
                  (local.set $length (call $pesHeaderLength (local.get $payload) (local.get $n)))
                  (br_if $stop (i32.lt_s (local.get $length) (i32.const 0)))
                  (local.set $payload (i32.add (local.get $payload) (local.get $length)))
                  (local.set $n (i32.sub (local.get $n) (local.get $length)))))
              ;; no room in the video block: the caller hands it on and walks on from this packet
              (br_if $stop (i32.gt_s (i32.add (global.get $es) (local.get $n)) (global.get $esEnd)))))
          ;; From here on the packet is the walk's: nothing below stops it.
          (i32.store8 (i32.add (local.get $state) (local.get $pid)) (local.get $cc))
          (br_if $done (i32.le_s (local.get $n) (i32.const 0))))
          ;; A video payload of $n bytes at $payload, of the packet at $p with PID $pid and counter $cc.
          (local.set $o (global.get $es))
          (if (i32.eq (local.get $n) (i32.const 184))
            (then
              ;; a whole packet's payload (no adaptation field), the common case: twelve 16-byte copies, the
              ;; last overlapping the eleventh, without a loop
              (v128.store offset=0 (local.get $o) (v128.load offset=0 (local.get $payload)))
              (v128.store offset=16 (local.get $o) (v128.load offset=16 (local.get $payload)))
              (v128.store offset=32 (local.get $o) (v128.load offset=32 (local.get $payload)))
              (v128.store offset=48 (local.get $o) (v128.load offset=48 (local.get $payload)))
              (v128.store offset=64 (local.get $o) (v128.load offset=64 (local.get $payload)))
              (v128.store offset=80 (local.get $o) (v128.load offset=80 (local.get $payload)))
              (v128.store offset=96 (local.get $o) (v128.load offset=96 (local.get $payload)))
              (v128.store offset=112 (local.get $o) (v128.load offset=112 (local.get $payload)))
              (v128.store offset=128 (local.get $o) (v128.load offset=128 (local.get $payload)))
              (v128.store offset=144 (local.get $o) (v128.load offset=144 (local.get $payload)))
              (v128.store offset=160 (local.get $o) (v128.load offset=160 (local.get $payload)))
              (v128.store offset=168 (local.get $o) (v128.load offset=168 (local.get $payload))))
            (else
              ;; 16 bytes at a time: may read up to 15 bytes past the packet and write up to 15 past the
              ;; payload's copy, which the layout leaves room for and the next copy overwrites
              (local.set $i (i32.const 0))
              (loop $copy
                (v128.store (i32.add (local.get $o) (local.get $i))
                  (v128.load (i32.add (local.get $payload) (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br_if $copy (i32.lt_u (local.get $i) (local.get $n))))))
          (global.set $es (i32.add (global.get $es) (local.get $n)))
          ;; extend the open run when this packet is the next one of it with the same payload layout
          (if (i32.and (i32.and (i32.ne (local.get $run) (i32.const 0)) (i32.eq (local.get $p) (local.get $runNext)))
                (i32.and
                  (i32.eq (i32.load offset=4 (local.get $run)) (i32.sub (local.get $payload) (local.get $p)))
                  (i32.eq (i32.load offset=8 (local.get $run)) (local.get $n))))
            (then
              (i32.store offset=12 (local.get $run) (i32.add (i32.load offset=12 (local.get $run)) (i32.const 1))))
            (else
              (local.set $run (global.get $runs))
              (global.set $runs (i32.add (local.get $run) (i32.const 16)))
              (i32.store (local.get $run) (local.get $p))
              (i32.store offset=4 (local.get $run) (i32.sub (local.get $payload) (local.get $p)))
              (i32.store offset=8 (local.get $run) (local.get $n))
              (i32.store offset=12 (local.get $run) (i32.const 1))))
          (local.set $runNext (local.get $next))
          ;; the header the next packet of this PID has if it simply continues: payload_unit_start_indicator
          ;; clear, adaptation_field_control '01', continuity_counter one up (the bytes little-endian)
          (local.set $videoPid (local.get $pid))
          (local.set $expect
            (i32.or (i32.and (i32.load (local.get $a)) (i32.const 0x00ffbfff))
              (i32.shl (i32.or (i32.const 0x10) (i32.and (i32.add (local.get $cc) (i32.const 1)) (i32.const 0x0f)))
                (i32.const 24)))))
        (local.set $p (local.get $next))
        (br $packet)))
    (local.get $p))
)
