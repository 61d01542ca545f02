;; Product-quantization kernels of OmenDB: WebAssembly SIMD128, hand-written.
;; Compiled by scripts/build-wasm.mjs (wabt, simd and threads enabled) into wasm/pq-kernels.wasm; loaded by
;; instantiatePQKernels in src/vector/wasm-kernels.ts. The pure-TypeScript oracles are
;; product-quantizer.ts (distanceTable, encodeVector, tableDistance) and kmeans.ts.
;;
;; Memory: imported as env.memory. Every pointer is a byte offset into it, read as unsigned, so
;; offsets up to 4 GiB work even though JavaScript passes them as i32. No alignment is required.
;;
;; Sub-spaces: `dim` splits into `m` parts, the first `dim % m` of width floor(dim/m) + 1, the rest
;; floor(dim/m); sub-space s starts at dimension lo(s) (as subspaceOffsets in product-quantizer.ts).
;;
;; Layouts (all f32 little-endian unless noted):
;;   table      m x 256 f32: entry [s][c] at table + s*1024 + c*4
;;   codes      one byte per sub-space; the code of slot t at codes + t*m
;;   codebook   "AoS" (as ProductQuantizer.centroids): centroid c of sub-space s at
;;              cb + lo(s)*1024 + c*width*4, `width` floats
;;   codebookT  "SoA" (transposed): component j of centroid c of sub-space s at
;;              cbt + lo(s)*1024 + j*1024 + c*4, i.e. 256 consecutive floats per component, so four
;;              centroids fill one f32x4 lane-wise. Same size as the AoS form.
;;   halfnorms  |c|^2 / 2 of each centroid (f32), 256 per sub-space: hn + s*1024 + c*4, and their
;;              per-sub-space maximum (m f32)
;;   k-means    points AoS: point i at points + i*w*4; points SoA: component j of point i at
;;              pointsT + (j*n + i)*4; centroids AoS (k x w) and SoA (w rows of kpad floats, kpad a
;;              multiple of 16, padding lanes 0) with half squared norms (kpad f32, padding +inf so
;;              padding never looks near); f64 arrays for d2, best and sums; i32 arrays for assign
;;              and counts.
;;
;; Exactness. The SIMD passes compute in f32. Where a result must equal the TypeScript oracle
;; bit for bit (the nearest centroid, its distance, k-means++ seeding, cluster sums) the f64
;; arithmetic of the oracle is reproduced in the oracle's order:
;;   $nearest  ranks all centroids in f32 SIMD, then recomputes in f64, exactly as kmeans.ts and
;;             encodeVector do, every centroid within a proven error margin of the f32 minimum
;;             (see the function), ascending, strict <: the result is the oracle's.
;;   kpp_update, kpp_pick, kmeans_sums: f64, the oracle's summation order.
;; Table entries and code distances are f32 sums (within rounding of the f64 oracle).
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; f64 distance of the last $nearest result (the oracle's value).
  (global $best_d (mut f64) (f64.const 0))

  ;; ------------------------------------------------------------------------------------------
  ;; pq_distances: out[j] = sum over s < m of table[s][codes[targets[j]*m + s]], j in [0, n).
  ;; Stops at the first target >= limit and returns how many were written (n when all valid).
  ;; Eight sub-spaces per iteration into four independent f32 accumulators (two lookups each), the
  ;; table pointer advancing 8 KiB; then one sub-space at a time into acc0. Sum: (a0+a1)+(a2+a3).
  ;; First, one byte of every cache line of every valid target's code is loaded (WebAssembly has no
  ;; prefetch instruction): the loads are independent, so the codes' cache misses overlap instead
  ;; of arriving one code at a time while each is summed.
  (func (export "pq_distances")
    (param $table i32) (param $codes i32) (param $m i32) (param $targets i32) (param $n i32)
    (param $out i32) (param $limit i32) (result i32)
    (local $done i32) (local $slot i32) (local $c i32) (local $t i32) (local $k i32)
    (local $nc i32) (local $o i32) (local $touched i32) (local $p i32) (local $end i32)
    (local $a0 f32) (local $a1 f32) (local $a2 f32) (local $a3 f32)
    (local.set $p (local.get $targets))
    (local.set $end (i32.add (local.get $targets) (i32.shl (local.get $n) (i32.const 2))))
    (block $touch_all
      (loop $each
        (br_if $touch_all (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $slot (i32.load (local.get $p)))
        (br_if $touch_all (i32.ge_u (local.get $slot) (local.get $limit)))
        (local.set $nc (i32.add (local.get $codes) (i32.mul (local.get $slot) (local.get $m))))
        (local.set $touched (i32.or (local.get $touched)
          (i32.load8_u (i32.add (local.get $nc) (i32.sub (local.get $m) (i32.const 1))))))
        (local.set $o (i32.const 0))
        (loop $touch
          (local.set $touched (i32.or (local.get $touched)
            (i32.load8_u (i32.add (local.get $nc) (local.get $o)))))
          (br_if $touch (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 64))) (local.get $m))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $each)))
    (block $exit
      (loop $next
        (br_if $exit (i32.ge_u (local.get $done) (local.get $n)))
        (local.set $slot (i32.load (local.get $targets)))
        (br_if $exit (i32.ge_u (local.get $slot) (local.get $limit)))
        (local.set $c (i32.add (local.get $codes) (i32.mul (local.get $slot) (local.get $m))))
        (local.set $t (local.get $table))
        (local.set $a0 (f32.const 0))
        (local.set $a1 (f32.const 0))
        (local.set $a2 (f32.const 0))
        (local.set $a3 (f32.const 0))
        (local.set $k (i32.shr_u (local.get $m) (i32.const 3)))
        (if (local.get $k)
          (then
            (loop $l8
              (local.set $a0 (f32.add (local.get $a0) (f32.load offset=0
                (i32.add (local.get $t) (i32.shl (i32.load8_u offset=0 (local.get $c)) (i32.const 2))))))
              (local.set $a1 (f32.add (local.get $a1) (f32.load offset=1024
                (i32.add (local.get $t) (i32.shl (i32.load8_u offset=1 (local.get $c)) (i32.const 2))))))
              (local.set $a2 (f32.add (local.get $a2) (f32.load offset=2048
                (i32.add (local.get $t) (i32.shl (i32.load8_u offset=2 (local.get $c)) (i32.const 2))))))
              (local.set $a3 (f32.add (local.get $a3) (f32.load offset=3072
                (i32.add (local.get $t) (i32.shl (i32.load8_u offset=3 (local.get $c)) (i32.const 2))))))
              (local.set $a0 (f32.add (local.get $a0) (f32.load offset=4096
                (i32.add (local.get $t) (i32.shl (i32.load8_u offset=4 (local.get $c)) (i32.const 2))))))
              (local.set $a1 (f32.add (local.get $a1) (f32.load offset=5120
                (i32.add (local.get $t) (i32.shl (i32.load8_u offset=5 (local.get $c)) (i32.const 2))))))
              (local.set $a2 (f32.add (local.get $a2) (f32.load offset=6144
                (i32.add (local.get $t) (i32.shl (i32.load8_u offset=6 (local.get $c)) (i32.const 2))))))
              (local.set $a3 (f32.add (local.get $a3) (f32.load offset=7168
                (i32.add (local.get $t) (i32.shl (i32.load8_u offset=7 (local.get $c)) (i32.const 2))))))
              (local.set $c (i32.add (local.get $c) (i32.const 8)))
              (local.set $t (i32.add (local.get $t) (i32.const 8192)))
              (br_if $l8 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
        (local.set $k (i32.and (local.get $m) (i32.const 7)))
        (if (local.get $k)
          (then
            (loop $l1
              (local.set $a0 (f32.add (local.get $a0) (f32.load
                (i32.add (local.get $t) (i32.shl (i32.load8_u (local.get $c)) (i32.const 2))))))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (local.set $t (i32.add (local.get $t) (i32.const 1024)))
              (br_if $l1 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
        (f32.store (local.get $out)
          (f32.add (f32.add (local.get $a0) (local.get $a1)) (f32.add (local.get $a2) (local.get $a3))))
        (local.set $targets (i32.add (local.get $targets) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $done (i32.add (local.get $done) (i32.const 1)))
        (br $next)))
    ;; `touched & 0` keeps the touching loads from being optimised away
    (i32.add (local.get $done) (i32.and (local.get $touched) (i32.const 0))))

  ;; ------------------------------------------------------------------------------------------
  ;; Distance tables. For each sub-space, 16 centroids at a time (four f32x4 accumulators, lane =
  ;; centroid) over the sub-space's components in order, the query component broadcast.

  ;; table[s][c] = sum_j (q[lo+j] - centroid_c[j])^2, from the transposed codebook.
  (func (export "pq_table_l2")
    (param $cbt i32) (param $query i32) (param $m i32) (param $dim i32) (param $out i32)
    (local $s i32) (local $base i32) (local $extra i32) (local $w i32) (local $lo i32)
    (local $blk i32) (local $p i32) (local $q i32) (local $j i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $qv v128) (local $d v128)
    (local.set $base (i32.div_u (local.get $dim) (local.get $m)))
    (local.set $extra (i32.rem_u (local.get $dim) (local.get $m)))
    (loop $sub
      (local.set $w (i32.add (local.get $base) (i32.lt_u (local.get $s) (local.get $extra))))
      (local.set $blk (i32.const 0))
      (loop $block
        (local.set $p (i32.add (i32.add (local.get $cbt) (i32.shl (local.get $lo) (i32.const 10)))
                               (i32.shl (local.get $blk) (i32.const 6))))
        (local.set $q (i32.add (local.get $query) (i32.shl (local.get $lo) (i32.const 2))))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $acc2 (v128.const i64x2 0 0))
        (local.set $acc3 (v128.const i64x2 0 0))
        (local.set $j (local.get $w))
        (loop $comp
          (local.set $qv (v128.load32_splat (local.get $q)))
          (local.set $d (f32x4.sub (local.get $qv) (v128.load offset=0 (local.get $p))))
          (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (local.get $qv) (v128.load offset=16 (local.get $p))))
          (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (local.get $qv) (v128.load offset=32 (local.get $p))))
          (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (local.get $qv) (v128.load offset=48 (local.get $p))))
          (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $p (i32.add (local.get $p) (i32.const 1024)))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (br_if $comp (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (v128.store offset=0 (local.get $out) (local.get $acc0))
        (v128.store offset=16 (local.get $out) (local.get $acc1))
        (v128.store offset=32 (local.get $out) (local.get $acc2))
        (v128.store offset=48 (local.get $out) (local.get $acc3))
        (local.set $out (i32.add (local.get $out) (i32.const 64)))
        (br_if $block (i32.lt_u (local.tee $blk (i32.add (local.get $blk) (i32.const 1))) (i32.const 16))))
      (local.set $lo (i32.add (local.get $lo) (local.get $w)))
      (br_if $sub (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (local.get $m)))))

  ;; table[s][c] = -(sum_j q[lo+j] * centroid_c[j]) (accumulated as 0 - q0c0 - q1c1 - ...).
  (func (export "pq_table_ip")
    (param $cbt i32) (param $query i32) (param $m i32) (param $dim i32) (param $out i32)
    (local $s i32) (local $base i32) (local $extra i32) (local $w i32) (local $lo i32)
    (local $blk i32) (local $p i32) (local $q i32) (local $j i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $qv v128)
    (local.set $base (i32.div_u (local.get $dim) (local.get $m)))
    (local.set $extra (i32.rem_u (local.get $dim) (local.get $m)))
    (loop $sub
      (local.set $w (i32.add (local.get $base) (i32.lt_u (local.get $s) (local.get $extra))))
      (local.set $blk (i32.const 0))
      (loop $block
        (local.set $p (i32.add (i32.add (local.get $cbt) (i32.shl (local.get $lo) (i32.const 10)))
                               (i32.shl (local.get $blk) (i32.const 6))))
        (local.set $q (i32.add (local.get $query) (i32.shl (local.get $lo) (i32.const 2))))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $acc2 (v128.const i64x2 0 0))
        (local.set $acc3 (v128.const i64x2 0 0))
        (local.set $j (local.get $w))
        (loop $comp
          (local.set $qv (v128.load32_splat (local.get $q)))
          (local.set $acc0 (f32x4.sub (local.get $acc0) (f32x4.mul (local.get $qv) (v128.load offset=0 (local.get $p)))))
          (local.set $acc1 (f32x4.sub (local.get $acc1) (f32x4.mul (local.get $qv) (v128.load offset=16 (local.get $p)))))
          (local.set $acc2 (f32x4.sub (local.get $acc2) (f32x4.mul (local.get $qv) (v128.load offset=32 (local.get $p)))))
          (local.set $acc3 (f32x4.sub (local.get $acc3) (f32x4.mul (local.get $qv) (v128.load offset=48 (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (i32.const 1024)))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (br_if $comp (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (v128.store offset=0 (local.get $out) (local.get $acc0))
        (v128.store offset=16 (local.get $out) (local.get $acc1))
        (v128.store offset=32 (local.get $out) (local.get $acc2))
        (v128.store offset=48 (local.get $out) (local.get $acc3))
        (local.set $out (i32.add (local.get $out) (i32.const 64)))
        (br_if $block (i32.lt_u (local.tee $blk (i32.add (local.get $blk) (i32.const 1))) (i32.const 16))))
      (local.set $lo (i32.add (local.get $lo) (local.get $w)))
      (br_if $sub (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (local.get $m)))))

  ;; ------------------------------------------------------------------------------------------
  ;; $nearest: index of the centroid nearest the w floats at $p, the first of equals (as the
  ;; oracle); its f64 distance goes to $best_d. Centroids: SoA at $cbt (rows of kpad floats,
  ;; padding lanes 0), AoS at $cb (k x w), half squared norms at $hn (kpad f32, padding +inf) and
  ;; their maximum $maxhn. $row: kpad f32 of scratch. k >= 1, kpad % 16 == 0, w >= 1.
  ;;
  ;; Pass 1 ranks centroids by h_c = |c|^2/2 - p.c (= (|p - c|^2 - |p|^2) / 2), f32, 16 centroids
  ;; per step (one multiply and one subtract per component and lane). Its f32 error is below
  ;; (w + 2) * 2^-24 * (|c|^2/2 + sum |p_j c_j|) <= (w + 2) * 2^-24 * (2 maxhn + |p|^2) =: E, so
  ;; every centroid whose exact distance is the minimum has h within 2E of the f32 minimum; the
  ;; margin used is 8E / (w + 2) * (w + 8) (with 1e-37 absolute for subnormals). Pass 2 recomputes
  ;; those candidates in f64 exactly as the oracle, ascending, strict <. When 2 maxhn + |p|^2 is
  ;; not below 1e38 (overflow possible, or NaN input) every centroid is recomputed. With no
  ;; comparable distance at all (NaN input) the result is 0 and $best_d +inf, as the oracle.
  (func $nearest
    (param $p i32) (param $cbt i32) (param $cb i32) (param $hn i32) (param $maxhn f32)
    (param $w i32) (param $k i32) (param $kpad i32) (param $row i32) (result i32)
    (local $stride i32) (local $blk i32) (local $pp i32) (local $x i32) (local $q i32) (local $j i32)
    (local $r i32) (local $bits i32) (local $all i32) (local $c i32) (local $cand i32) (local $cp i32)
    (local $pj i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $qv v128) (local $mn v128) (local $thrv v128)
    (local $np f32) (local $v f32) (local $scale f32) (local $thr f32)
    (local $bestc i32) (local $bestd f64) (local $e f64) (local $t f64)
    (local.set $stride (i32.shl (local.get $kpad) (i32.const 2)))
    (local.set $mn (v128.const f32x4 inf inf inf inf))
    ;; pass 1: h for every centroid into $row, running lane-wise minimum in $mn
    (local.set $blk (i32.shr_u (local.get $kpad) (i32.const 4)))
    (local.set $pp (local.get $cbt))
    (local.set $r (local.get $row))
    (local.set $x (local.get $hn))
    (loop $block
      (local.set $acc0 (v128.load offset=0 (local.get $x)))
      (local.set $acc1 (v128.load offset=16 (local.get $x)))
      (local.set $acc2 (v128.load offset=32 (local.get $x)))
      (local.set $acc3 (v128.load offset=48 (local.get $x)))
      (local.set $x (local.get $pp))
      (local.set $q (local.get $p))
      (local.set $j (local.get $w))
      (loop $comp
        (local.set $qv (v128.load32_splat (local.get $q)))
        (local.set $acc0 (f32x4.sub (local.get $acc0) (f32x4.mul (local.get $qv) (v128.load offset=0 (local.get $x)))))
        (local.set $acc1 (f32x4.sub (local.get $acc1) (f32x4.mul (local.get $qv) (v128.load offset=16 (local.get $x)))))
        (local.set $acc2 (f32x4.sub (local.get $acc2) (f32x4.mul (local.get $qv) (v128.load offset=32 (local.get $x)))))
        (local.set $acc3 (f32x4.sub (local.get $acc3) (f32x4.mul (local.get $qv) (v128.load offset=48 (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (local.get $stride)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br_if $comp (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
      (v128.store offset=0 (local.get $r) (local.get $acc0))
      (v128.store offset=16 (local.get $r) (local.get $acc1))
      (v128.store offset=32 (local.get $r) (local.get $acc2))
      (v128.store offset=48 (local.get $r) (local.get $acc3))
      ;; pmin(a, b) = b < a ? b : a: a NaN never becomes the minimum
      (local.set $mn (f32x4.pmin (local.get $mn) (local.get $acc0)))
      (local.set $mn (f32x4.pmin (local.get $mn) (local.get $acc1)))
      (local.set $mn (f32x4.pmin (local.get $mn) (local.get $acc2)))
      (local.set $mn (f32x4.pmin (local.get $mn) (local.get $acc3)))
      (local.set $pp (i32.add (local.get $pp) (i32.const 64)))
      (local.set $r (i32.add (local.get $r) (i32.const 64)))
      (local.set $x (i32.add (i32.sub (local.get $hn) (local.get $cbt)) (local.get $pp)))
      (br_if $block (local.tee $blk (i32.sub (local.get $blk) (i32.const 1)))))
    ;; |p|^2 (f32, only for the margin)
    (local.set $q (local.get $p))
    (local.set $j (local.get $w))
    (loop $norm
      (local.set $v (f32.load (local.get $q)))
      (local.set $np (f32.add (local.get $np) (f32.mul (local.get $v) (local.get $v))))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br_if $norm (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
    (local.set $scale (f32.add (f32.add (local.get $maxhn) (local.get $maxhn)) (local.get $np)))
    ;; threshold: the f32 minimum plus the margin; recompute everything when out of range
    (local.set $thr (f32.min
      (f32.min (f32x4.extract_lane 0 (local.get $mn)) (f32x4.extract_lane 1 (local.get $mn)))
      (f32.min (f32x4.extract_lane 2 (local.get $mn)) (f32x4.extract_lane 3 (local.get $mn)))))
    (local.set $thr (f32.add (f32.add (local.get $thr)
      (f32.mul (local.get $scale)
        (f32.mul (f32.convert_i32_u (i32.add (local.get $w) (i32.const 8))) (f32.const 0x1p-21))))
      (f32.const 1e-37)))
    (local.set $all (select (i32.const 0) (i32.const 0xffff) (f32.lt (local.get $scale) (f32.const 1e38))))
    (local.set $thrv (f32x4.splat (local.get $thr)))
    ;; pass 2: recompute every candidate in f64, ascending, strict <
    (local.set $bestc (i32.const 0))
    (local.set $bestd (f64.const inf))
    (local.set $c (i32.const 0))
    (local.set $r (local.get $row))
    (loop $scan
      ;; 16 centroids per test; in the rare block holding a candidate, its 16-bit lane mask
      (if (i32.or (local.get $all) (v128.any_true (v128.or
            (v128.or (f32x4.le (v128.load offset=0 (local.get $r)) (local.get $thrv))
                     (f32x4.le (v128.load offset=16 (local.get $r)) (local.get $thrv)))
            (v128.or (f32x4.le (v128.load offset=32 (local.get $r)) (local.get $thrv))
                     (f32x4.le (v128.load offset=48 (local.get $r)) (local.get $thrv))))))
        (then
          (local.set $bits (i32.or (local.get $all) (i32.or
            (i32.or (i32x4.bitmask (f32x4.le (v128.load offset=0 (local.get $r)) (local.get $thrv)))
                    (i32.shl (i32x4.bitmask (f32x4.le (v128.load offset=16 (local.get $r)) (local.get $thrv))) (i32.const 4)))
            (i32.or (i32.shl (i32x4.bitmask (f32x4.le (v128.load offset=32 (local.get $r)) (local.get $thrv))) (i32.const 8))
                    (i32.shl (i32x4.bitmask (f32x4.le (v128.load offset=48 (local.get $r)) (local.get $thrv))) (i32.const 12))))))
          (loop $lane
            (local.set $cand (i32.add (local.get $c) (i32.ctz (local.get $bits))))
            (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
            (if (i32.lt_u (local.get $cand) (local.get $k))
              (then
                (local.set $e (f64.const 0))
                (local.set $cp (i32.add (local.get $cb)
                  (i32.shl (i32.mul (local.get $cand) (local.get $w)) (i32.const 2))))
                (local.set $pj (local.get $p))
                (local.set $j (local.get $w))
                (loop $exact
                  (local.set $t (f64.sub (f64.promote_f32 (f32.load (local.get $pj)))
                                         (f64.promote_f32 (f32.load (local.get $cp)))))
                  (local.set $e (f64.add (local.get $e) (f64.mul (local.get $t) (local.get $t))))
                  (local.set $pj (i32.add (local.get $pj) (i32.const 4)))
                  (local.set $cp (i32.add (local.get $cp) (i32.const 4)))
                  (br_if $exact (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
                (if (f64.lt (local.get $e) (local.get $bestd))
                  (then
                    (local.set $bestd (local.get $e))
                    (local.set $bestc (local.get $cand))))))
            (br_if $lane (local.get $bits)))))
      (local.set $r (i32.add (local.get $r) (i32.const 64)))
      (br_if $scan (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 16))) (local.get $kpad))))
    (global.set $best_d (local.get $bestd))
    (local.get $bestc))

  ;; out[s] = index of the centroid of sub-space s nearest the vector at $vec (as encodeVector),
  ;; 256 centroids per sub-space: both codebook forms, half squared norms at $hn (m x 256 f32) and
  ;; their per-sub-space maxima at $maxhn (m f32). $row: 1 KiB of scratch.
  (func (export "pq_encode")
    (param $cbt i32) (param $cb i32) (param $hn i32) (param $maxhn i32) (param $m i32) (param $dim i32)
    (param $vec i32) (param $row i32) (param $out i32)
    (local $s i32) (local $base i32) (local $extra i32) (local $w i32) (local $lo i32) (local $at i32)
    (local.set $base (i32.div_u (local.get $dim) (local.get $m)))
    (local.set $extra (i32.rem_u (local.get $dim) (local.get $m)))
    (loop $sub
      (local.set $w (i32.add (local.get $base) (i32.lt_u (local.get $s) (local.get $extra))))
      (local.set $at (i32.shl (local.get $lo) (i32.const 10)))
      (i32.store8 (i32.add (local.get $out) (local.get $s))
        (call $nearest
          (i32.add (local.get $vec) (i32.shl (local.get $lo) (i32.const 2)))
          (i32.add (local.get $cbt) (local.get $at))
          (i32.add (local.get $cb) (local.get $at))
          (i32.add (local.get $hn) (i32.shl (local.get $s) (i32.const 10)))
          (f32.load (i32.add (local.get $maxhn) (i32.shl (local.get $s) (i32.const 2))))
          (local.get $w) (i32.const 256) (i32.const 256) (local.get $row)))
      (local.set $lo (i32.add (local.get $lo) (local.get $w)))
      (br_if $sub (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (local.get $m)))))

;; pq_encode for n vectors at once (consecutive, dim floats each, from $vecs), the code of vector
  ;; i written to $codes + slots[i]*m ($slots: n u32). Sub-space outermost, so each sub-space's
  ;; codebook (a few KiB) stays in L1 while every vector is encoded against it.
  (func (export "pq_encode_many")
    (param $cbt i32) (param $cb i32) (param $hn i32) (param $maxhn i32) (param $m i32) (param $dim i32)
    (param $vecs i32) (param $n i32) (param $row i32) (param $codes i32) (param $slots i32)
    (local $s i32) (local $base i32) (local $extra i32) (local $w i32) (local $lo i32) (local $at i32)
    (local $i i32) (local $v i32) (local $sl i32) (local $mx f32) (local $rowb i32)
    (if (i32.eqz (local.get $n)) (then (return)))
    (local.set $base (i32.div_u (local.get $dim) (local.get $m)))
    (local.set $extra (i32.rem_u (local.get $dim) (local.get $m)))
    (local.set $rowb (i32.shl (local.get $dim) (i32.const 2)))
    (loop $sub
      (local.set $w (i32.add (local.get $base) (i32.lt_u (local.get $s) (local.get $extra))))
      (local.set $at (i32.shl (local.get $lo) (i32.const 10)))
      (local.set $mx (f32.load (i32.add (local.get $maxhn) (i32.shl (local.get $s) (i32.const 2)))))
      (local.set $v (i32.add (local.get $vecs) (i32.shl (local.get $lo) (i32.const 2))))
      (local.set $sl (local.get $slots))
      (local.set $i (local.get $n))
      (loop $vec
        (i32.store8
          (i32.add (i32.add (local.get $codes) (i32.mul (i32.load (local.get $sl)) (local.get $m))) (local.get $s))
          (call $nearest (local.get $v)
            (i32.add (local.get $cbt) (local.get $at))
            (i32.add (local.get $cb) (local.get $at))
            (i32.add (local.get $hn) (i32.shl (local.get $s) (i32.const 10)))
            (local.get $mx) (local.get $w) (i32.const 256) (i32.const 256) (local.get $row)))
        (local.set $v (i32.add (local.get $v) (local.get $rowb)))
        (local.set $sl (i32.add (local.get $sl) (i32.const 4)))
        (br_if $vec (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (local.set $lo (i32.add (local.get $lo) (local.get $w)))
      (br_if $sub (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (local.get $m)))))

  ;; ------------------------------------------------------------------------------------------
  ;; k-means (kmeans.ts) building blocks.

  ;; Lloyd assignment: assign[i] = nearest centroid of point i, best[i] (f64) = its distance.
  ;; Returns how many assignments changed (every point when $first is non-zero), as the oracle.
  ;; Centroids as for $nearest: SoA $cbt, AoS $cb, half squared norms $hn and their maximum.
  (func (export "kmeans_assign")
    (param $points i32) (param $n i32) (param $w i32) (param $cbt i32) (param $cb i32) (param $hn i32)
    (param $maxhn f32) (param $k i32) (param $kpad i32) (param $row i32) (param $assign i32)
    (param $best i32) (param $first i32) (result i32)
    (local $changed i32) (local $c i32) (local $rowb i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (local.set $rowb (i32.shl (local.get $w) (i32.const 2)))
    (loop $point
      (local.set $c (call $nearest (local.get $points) (local.get $cbt) (local.get $cb) (local.get $hn)
        (local.get $maxhn) (local.get $w) (local.get $k) (local.get $kpad) (local.get $row)))
      (if (i32.or (local.get $first) (i32.ne (local.get $c) (i32.load (local.get $assign))))
        (then (local.set $changed (i32.add (local.get $changed) (i32.const 1)))))
      (i32.store (local.get $assign) (local.get $c))
      (f64.store (local.get $best) (global.get $best_d))
      (local.set $points (i32.add (local.get $points) (local.get $rowb)))
      (local.set $assign (i32.add (local.get $assign) (i32.const 4)))
      (local.set $best (i32.add (local.get $best) (i32.const 8)))
      (br_if $point (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $changed))

  ;; Cluster sums: sums[c][j] (f64, zeroed first) += point i component j for each i in order with
  ;; assign[i] = c; counts[c] (i32, zeroed first) = cluster sizes.
  (func (export "kmeans_sums")
    (param $points i32) (param $n i32) (param $w i32) (param $assign i32) (param $k i32)
    (param $sums i32) (param $counts i32)
    (local $i i32) (local $c i32) (local $q i32) (local $j i32) (local $x i32)
    ;; zero k*w f64 and k i32
    (local.set $x (local.get $sums))
    (local.set $i (i32.mul (local.get $k) (local.get $w)))
    (if (local.get $i)
      (then
        (loop $z
          (f64.store (local.get $x) (f64.const 0))
          (local.set $x (i32.add (local.get $x) (i32.const 8)))
          (br_if $z (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))))
    (local.set $x (local.get $counts))
    (local.set $i (local.get $k))
    (if (local.get $i)
      (then
        (loop $zc
          (i32.store (local.get $x) (i32.const 0))
          (local.set $x (i32.add (local.get $x) (i32.const 4)))
          (br_if $zc (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))))
    (if (i32.eqz (local.get $n)) (then (return)))
    (loop $point
      (local.set $c (i32.load (local.get $assign)))
      (local.set $x (i32.add (local.get $counts) (i32.shl (local.get $c) (i32.const 2))))
      (i32.store (local.get $x) (i32.add (i32.load (local.get $x)) (i32.const 1)))
      (local.set $q (i32.add (local.get $sums) (i32.shl (i32.mul (local.get $c) (local.get $w)) (i32.const 3))))
      (local.set $j (local.get $w))
      (loop $comp
        (f64.store (local.get $q)
          (f64.add (f64.load (local.get $q)) (f64.promote_f32 (f32.load (local.get $points)))))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (local.set $points (i32.add (local.get $points) (i32.const 4)))
        (br_if $comp (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
      (local.set $assign (i32.add (local.get $assign) (i32.const 4)))
      (br_if $point (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))

;; k-means++ step: with the new centroid (w f32 at $cent), d2[i] = min(d2[i], |p_i - cent|^2)
  ;; (f64, components summed in order, as the oracle); returns sum of d2 in point order (f64).
  ;; Points SoA at $pts (component j of point i at $pts + (j*n + i)*4); four points per step (two
  ;; f64x2), then two, then one. $splat: w*16 bytes of scratch for the centroid as f64x2 splats.
  (func (export "kpp_update")
    (param $pts i32) (param $n i32) (param $w i32) (param $cent i32) (param $d2 i32) (param $splat i32)
    (result f64)
    (local $i i32) (local $j i32) (local $x i32) (local $cp i32) (local $stride i32)
    (local $acc0 v128) (local $acc1 v128) (local $cv v128) (local $t v128)
    (local $total f64) (local $e f64) (local $s f64)
    (local.set $stride (i32.shl (local.get $n) (i32.const 2)))
    (local.set $x (local.get $splat))
    (local.set $cp (local.get $cent))
    (local.set $j (local.get $w))
    (loop $splats
      (v128.store (local.get $x) (f64x2.splat (f64.promote_f32 (f32.load (local.get $cp)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $cp (i32.add (local.get $cp) (i32.const 4)))
      (br_if $splats (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
    ;; four points
    (block $quads_done
      (loop $quad
        (br_if $quads_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $x (i32.add (local.get $pts) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $cp (local.get $splat))
        (local.set $j (local.get $w))
        (loop $comp4
          (local.set $cv (v128.load (local.get $cp)))
          (local.set $t (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))) (local.get $cv)))
          (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (local.get $t) (local.get $t))))
          (local.set $t (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $x))) (local.get $cv)))
          (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (local.get $t) (local.get $t))))
          (local.set $x (i32.add (local.get $x) (local.get $stride)))
          (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
          (br_if $comp4 (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $x (i32.add (local.get $d2) (i32.shl (local.get $i) (i32.const 3))))
        ;; pmin(d2, d) = d < d2 ? d : d2, the oracle's `if (d < d2[i]) d2[i] = d`
        (local.set $acc0 (f64x2.pmin (v128.load (local.get $x)) (local.get $acc0)))
        (v128.store (local.get $x) (local.get $acc0))
        (local.set $acc1 (f64x2.pmin (v128.load offset=16 (local.get $x)) (local.get $acc1)))
        (v128.store offset=16 (local.get $x) (local.get $acc1))
        (local.set $total (f64.add (f64.add (f64.add (f64.add (local.get $total)
          (f64x2.extract_lane 0 (local.get $acc0))) (f64x2.extract_lane 1 (local.get $acc0)))
          (f64x2.extract_lane 0 (local.get $acc1))) (f64x2.extract_lane 1 (local.get $acc1))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quad)))
    ;; two points
    (if (i32.le_u (i32.add (local.get $i) (i32.const 2)) (local.get $n))
      (then
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $x (i32.add (local.get $pts) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $cp (local.get $splat))
        (local.set $j (local.get $w))
        (loop $comp2
          (local.set $t (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))) (v128.load (local.get $cp))))
          (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (local.get $t) (local.get $t))))
          (local.set $x (i32.add (local.get $x) (local.get $stride)))
          (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
          (br_if $comp2 (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $x (i32.add (local.get $d2) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $acc0 (f64x2.pmin (v128.load (local.get $x)) (local.get $acc0)))
        (v128.store (local.get $x) (local.get $acc0))
        (local.set $total (f64.add
          (f64.add (local.get $total) (f64x2.extract_lane 0 (local.get $acc0)))
          (f64x2.extract_lane 1 (local.get $acc0))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))))
    ;; one point
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $e (f64.const 0))
        (local.set $x (i32.add (local.get $pts) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $cp (local.get $cent))
        (local.set $j (local.get $w))
        (loop $comp1
          (local.set $s (f64.sub (f64.promote_f32 (f32.load (local.get $x)))
                                 (f64.promote_f32 (f32.load (local.get $cp)))))
          (local.set $e (f64.add (local.get $e) (f64.mul (local.get $s) (local.get $s))))
          (local.set $x (i32.add (local.get $x) (local.get $stride)))
          (local.set $cp (i32.add (local.get $cp) (i32.const 4)))
          (br_if $comp1 (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $x (i32.add (local.get $d2) (i32.shl (local.get $i) (i32.const 3))))
        (if (f64.lt (local.get $e) (f64.load (local.get $x)))
          (then (f64.store (local.get $x) (local.get $e))))
        (local.set $total (f64.add (local.get $total) (f64.load (local.get $x))))))
    (local.get $total))

  ;; k-means++ draw: the first i with r - d2[0] - ... - d2[i] <= 0, else n - 1 (as the oracle).
  (func (export "kpp_pick") (param $d2 i32) (param $n i32) (param $r f64) (result i32)
    (local $i i32)
    (block $none
      (loop $next
        (br_if $none (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $r (f64.sub (local.get $r) (f64.load (local.get $d2))))
        (if (f64.le (local.get $r) (f64.const 0)) (then (return (local.get $i))))
        (local.set $d2 (i32.add (local.get $d2) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $n) (i32.const 1)))
)
