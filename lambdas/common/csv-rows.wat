;; CsvScanner's fast path (scanRows in csv-scan.ts) in WebAssembly SIMD, 16 bytes at a time.
;;
;; The same contract as the JavaScript scanRows, which stays the reference and the fallback: from
;; `from` (a record's start) up to `limit` (the chunk's next quote, or its end), whole records whose
;; leading fields hold no byte <= ',' but commas, each with a well-formed `MM-DD-YYYY HH:MM:SS`
;; timestamp (optionally ` UTC`) in field `column`; stops at the first record it cannot take whole.
;; The chunk is at offset 0 of memory, with at least 16 readable bytes after `limit`.
;;
;; Returns where it stopped (the next record's start); $records, $outside, $minKey, $maxKey hold
;; what the call added; $stop is -1, or the byte after the timestamp field of a record whose end is
;; not before `limit` (its timestamp counted). The date memo (the last date's bytes and key) is a
;; pure function of the bytes, so it is kept across calls and scanners.
;;
;; Built into csv-rows-wasm.ts by `npm run build:wasm`; a unit test fails when the two differ.
(module
  (memory (export "memory") 2)
  (global $records (export "records") (mut i32) (i32.const 0))
  (global $outside (export "outside") (mut i32) (i32.const 0))
  (global $minKey (export "minKey") (mut f64) (f64.const 0))
  (global $maxKey (export "maxKey") (mut f64) (f64.const 0))
  (global $stop (export "stop") (mut i32) (i32.const -1))
  (global $haveDate (mut i32) (i32.const 0))
  (global $dateLo (mut i64) (i64.const 0))
  (global $dateHi (mut i32) (i32.const 0))
  (global $dateKey (mut f64) (f64.const 0))

  ;; Two ASCII digits at $p as a number; -1 if either is not a digit.
  (func $two (param $p i32) (result i32)
    (local $a i32) (local $b i32)
    (local.set $a (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
    (local.set $b (i32.sub (i32.load8_u offset=1 (local.get $p)) (i32.const 48)))
    (if (result i32)
      (i32.or (i32.gt_u (local.get $a) (i32.const 9)) (i32.gt_u (local.get $b) (i32.const 9)))
      (then (i32.const -1))
      (else (i32.add (i32.mul (local.get $a) (i32.const 10)) (local.get $b)))))

  ;; The key (YYYYMMDD000000) of the date of a well-formed 19-byte timestamp at $p (timestampKey's
  ;; checks, all of them); -1 when it is not one.
  (func $dateKeyAt (param $p i32) (result f64)
    (local $month i32) (local $day i32) (local $y1 i32) (local $y2 i32) (local $hour i32)
    (local $minute i32) (local $second i32)
    (if (i32.or
          (i32.or
            (i32.ne (i32.load8_u offset=2 (local.get $p)) (i32.const 0x2d))
            (i32.ne (i32.load8_u offset=5 (local.get $p)) (i32.const 0x2d)))
          (i32.or
            (i32.ne (i32.load8_u offset=10 (local.get $p)) (i32.const 0x20))
            (i32.or
              (i32.ne (i32.load8_u offset=13 (local.get $p)) (i32.const 0x3a))
              (i32.ne (i32.load8_u offset=16 (local.get $p)) (i32.const 0x3a)))))
      (then (return (f64.const -1))))
    (local.set $month (call $two (local.get $p)))
    (local.set $day (call $two (i32.add (local.get $p) (i32.const 3))))
    (local.set $y1 (call $two (i32.add (local.get $p) (i32.const 6))))
    (local.set $y2 (call $two (i32.add (local.get $p) (i32.const 8))))
    (local.set $hour (call $two (i32.add (local.get $p) (i32.const 11))))
    (local.set $minute (call $two (i32.add (local.get $p) (i32.const 14))))
    (local.set $second (call $two (i32.add (local.get $p) (i32.const 17))))
    (if (i32.or
          (i32.or
            (i32.or (i32.lt_s (local.get $month) (i32.const 1)) (i32.gt_s (local.get $month) (i32.const 12)))
            (i32.or (i32.lt_s (local.get $day) (i32.const 1)) (i32.gt_s (local.get $day) (i32.const 31))))
          (i32.or
            (i32.or (i32.lt_s (local.get $y1) (i32.const 0)) (i32.lt_s (local.get $y2) (i32.const 0)))
            (i32.or
              (i32.or (i32.lt_s (local.get $hour) (i32.const 0)) (i32.gt_s (local.get $hour) (i32.const 23)))
              (i32.or
                (i32.or (i32.lt_s (local.get $minute) (i32.const 0)) (i32.gt_s (local.get $minute) (i32.const 59)))
                (i32.or (i32.lt_s (local.get $second) (i32.const 0)) (i32.gt_s (local.get $second) (i32.const 60)))))))
      (then (return (f64.const -1))))
    (f64.mul
      (f64.convert_i32_s
        (i32.add
          (i32.mul
            (i32.add
              (i32.mul (i32.add (i32.mul (local.get $y1) (i32.const 100)) (local.get $y2)) (i32.const 100))
              (local.get $month))
            (i32.const 100))
          (local.get $day)))
      (f64.const 1000000)))

  (func (export "scanRows")
    (param $from i32) (param $limit i32) (param $column i32)
    (param $startKey f64) (param $endKey f64) (param $min f64) (param $max f64)
    (result i32)
    (local $pos i32) (local $i i32) (local $field i32) (local $bits i32) (local $commas i32)
    (local $rem i32) (local $v v128) (local $lo i64) (local $hi i32) (local $k f64)
    (local $h1 i32) (local $h2 i32) (local $m1 i32) (local $m2 i32) (local $s1 i32) (local $s2 i32)
    (local $hour i32) (local $second i32) (local $end i32) (local $after i32) (local $key f64)
    (local $p i32) (local $lfs i32) (local $lf i32) (local $records i32) (local $outside i32)
    (global.set $stop (i32.const -1))
    (local.set $pos (local.get $from))
    (block $out
      (loop $rows
        (br_if $out (i32.ge_u (local.get $pos) (local.get $limit)))
        ;; The leading fields: `column` commas, no other byte <= ','. A sentinel bit at `limit`.
        (local.set $i (local.get $pos))
        (local.set $field (i32.const 0))
        (block $walked
          (loop $walk
            (br_if $walked (i32.eq (local.get $field) (local.get $column)))
            (br_if $out (i32.ge_u (local.get $i) (local.get $limit)))
            (local.set $v (v128.load (local.get $i)))
            (local.set $bits (i8x16.bitmask (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 0x2d)))))
            (local.set $commas (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2c)))))
            (local.set $rem (i32.sub (local.get $limit) (local.get $i)))
            (if (i32.lt_u (local.get $rem) (i32.const 16))
              (then
                (local.set $commas
                  (i32.and (local.get $commas) (i32.sub (i32.shl (i32.const 1) (local.get $rem)) (i32.const 1))))
                (local.set $bits
                  (i32.or
                    (i32.and (local.get $bits) (i32.sub (i32.shl (i32.const 1) (local.get $rem)) (i32.const 1)))
                    (i32.shl (i32.const 1) (local.get $rem))))))
            (block $next
              (loop $low
                (br_if $next (i32.eqz (local.get $bits)))
                ;; The lowest byte <= ',' must be a comma (a quote, CR, LF, space or the sentinel is not).
                (br_if $out
                  (i32.eqz (i32.and (local.get $commas) (i32.and (local.get $bits) (i32.sub (i32.const 0) (local.get $bits))))))
                (local.set $field (i32.add (local.get $field) (i32.const 1)))
                (if (i32.eq (local.get $field) (local.get $column))
                  (then
                    (local.set $i (i32.add (i32.add (local.get $i) (i32.ctz (local.get $bits))) (i32.const 1)))
                    (br $walked)))
                (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
                (br $low)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $walk)))
        ;; The timestamp and the byte after it (and a possible " UTC") must lie before `limit`.
        (br_if $out (i32.gt_u (i32.add (local.get $i) (i32.const 20)) (local.get $limit)))
        ;; The date is compared with the last one parsed, and parsed only when it differs.
        (local.set $lo (i64.load (local.get $i)))
        (local.set $hi (i32.load16_u offset=8 (local.get $i)))
        (if (i32.eqz
              (i32.and (global.get $haveDate)
                (i32.and (i64.eq (local.get $lo) (global.get $dateLo)) (i32.eq (local.get $hi) (global.get $dateHi)))))
          (then
            (local.set $k (call $dateKeyAt (local.get $i)))
            (br_if $out (f64.lt (local.get $k) (f64.const 0)))
            (global.set $haveDate (i32.const 1))
            (global.set $dateLo (local.get $lo))
            (global.set $dateHi (local.get $hi))
            (global.set $dateKey (local.get $k))))
        (local.set $h1 (i32.sub (i32.load8_u offset=11 (local.get $i)) (i32.const 48)))
        (local.set $h2 (i32.sub (i32.load8_u offset=12 (local.get $i)) (i32.const 48)))
        (local.set $m1 (i32.sub (i32.load8_u offset=14 (local.get $i)) (i32.const 48)))
        (local.set $m2 (i32.sub (i32.load8_u offset=15 (local.get $i)) (i32.const 48)))
        (local.set $s1 (i32.sub (i32.load8_u offset=17 (local.get $i)) (i32.const 48)))
        (local.set $s2 (i32.sub (i32.load8_u offset=18 (local.get $i)) (i32.const 48)))
        (br_if $out
          (i32.or
            (i32.or
              (i32.ne (i32.load8_u offset=10 (local.get $i)) (i32.const 0x20))
              (i32.or
                (i32.ne (i32.load8_u offset=13 (local.get $i)) (i32.const 0x3a))
                (i32.ne (i32.load8_u offset=16 (local.get $i)) (i32.const 0x3a))))
            (i32.or
              (i32.or (i32.gt_u (local.get $h1) (i32.const 2)) (i32.gt_u (local.get $h2) (i32.const 9)))
              (i32.or
                (i32.or (i32.gt_u (local.get $m1) (i32.const 5)) (i32.gt_u (local.get $m2) (i32.const 9)))
                (i32.or (i32.gt_u (local.get $s1) (i32.const 6)) (i32.gt_u (local.get $s2) (i32.const 9)))))))
        (local.set $hour (i32.add (i32.mul (local.get $h1) (i32.const 10)) (local.get $h2)))
        (local.set $second (i32.add (i32.mul (local.get $s1) (i32.const 10)) (local.get $s2)))
        (br_if $out
          (i32.or (i32.gt_u (local.get $hour) (i32.const 23)) (i32.gt_u (local.get $second) (i32.const 60))))
        (local.set $end (i32.add (local.get $i) (i32.const 19)))
        (if (i32.eq (i32.load8_u (local.get $end)) (i32.const 0x20))
          (then
            (br_if $out
              (i32.or
                (i32.gt_u (i32.add (local.get $end) (i32.const 5)) (local.get $limit))
                (i32.or
                  (i32.ne (i32.load8_u offset=1 (local.get $end)) (i32.const 0x55))
                  (i32.or
                    (i32.ne (i32.load8_u offset=2 (local.get $end)) (i32.const 0x54))
                    (i32.ne (i32.load8_u offset=3 (local.get $end)) (i32.const 0x43))))))
            (local.set $end (i32.add (local.get $end) (i32.const 4)))))
        (local.set $after (i32.load8_u (local.get $end)))
        (br_if $out
          (i32.and
            (i32.ne (local.get $after) (i32.const 0x2c))
            (i32.and (i32.ne (local.get $after) (i32.const 0x0d)) (i32.ne (local.get $after) (i32.const 0x0a)))))
        (local.set $key
          (f64.add (global.get $dateKey)
            (f64.convert_i32_s
              (i32.add
                (i32.add
                  (i32.mul (local.get $hour) (i32.const 10000))
                  (i32.mul (i32.add (i32.mul (local.get $m1) (i32.const 10)) (local.get $m2)) (i32.const 100)))
                (local.get $second)))))
        (if (f64.lt (local.get $key) (local.get $min)) (then (local.set $min (local.get $key))))
        (if (f64.gt (local.get $key) (local.get $max)) (then (local.set $max (local.get $key))))
        (if (i32.or (f64.lt (local.get $key) (local.get $startKey)) (f64.ge (local.get $key) (local.get $endKey)))
          (then (local.set $outside (i32.add (local.get $outside) (i32.const 1)))))
        ;; The record's end: the first LF before `limit`.
        (local.set $p (local.get $end))
        (block $found
          (loop $seek
            (if (i32.ge_u (local.get $p) (local.get $limit))
              (then
                ;; The rest of this record is for the general loop (a quote, or the next chunk).
                (global.set $stop
                  (select
                    (i32.add (local.get $end) (i32.const 1))
                    (local.get $end)
                    (i32.eq (local.get $after) (i32.const 0x2c))))
                (br $out)))
            (local.set $lfs
              (i8x16.bitmask (i8x16.eq (v128.load (local.get $p)) (i8x16.splat (i32.const 0x0a)))))
            (local.set $rem (i32.sub (local.get $limit) (local.get $p)))
            (if (i32.lt_u (local.get $rem) (i32.const 16))
              (then
                (local.set $lfs
                  (i32.and (local.get $lfs) (i32.sub (i32.shl (i32.const 1) (local.get $rem)) (i32.const 1))))))
            (if (local.get $lfs)
              (then
                (local.set $lf (i32.add (local.get $p) (i32.ctz (local.get $lfs))))
                (br $found)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $seek)))
        (local.set $records (i32.add (local.get $records) (i32.const 1)))
        (local.set $pos (i32.add (local.get $lf) (i32.const 1)))
        (br $rows)))
    (global.set $records (local.get $records))
    (global.set $outside (local.get $outside))
    (global.set $minKey (local.get $min))
    (global.set $maxKey (local.get $max))
    (local.get $pos))
)
