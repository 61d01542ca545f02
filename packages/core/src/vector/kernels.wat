;; Distance kernels of OmenDB's exact search: WebAssembly SIMD128, hand-written.
;; Compiled by scripts/build-wasm.mjs (wabt, simd and threads enabled) into wasm/kernels.wasm; loaded by
;; src/vector/wasm-kernels.ts. The pure-TypeScript oracle is src/vector/distance.ts.
;;
;; Memory: imported as env.memory, private to one thread (one per reader of a vector file: its query
;; and staging area). Every pointer is a byte offset into it,
;; read as unsigned, so offsets up to 4 GiB work even though JavaScript passes them as i32.
;; A vector is `dim` consecutive little-endian f32; no alignment is required (v128 loads and stores
;; are unaligned-safe, the alignment immediate is only a hint).
;;
;; Inner loop: four independent f32x4 accumulators, 16 floats per iteration (four accumulators beat
;; 1, 2 and 8 in measurement: they hide the add latency without spilling), then a 4-wide tail into
;; the first accumulator and a scalar tail, so any dim >= 0 works. The accumulators are summed as
;; (acc0 + acc1) + (acc2 + acc3), then lanes as (l0 + l1) + (l2 + l3), then the scalar tail is added.
;; Results are deterministic: the same inputs always give bit-identical outputs.
;;
;; Batched kernels (one call per batch, never per vector) write one f32 per vector to `out`, for
;; vectors v_j at base + j*stride, j in [0, n) (a staging area the caller copied them into: the
;; vector file's records are stride = dim*4 + 8 bytes apart):
;;   dist_ip_range   1 - q.v   (inner-product distance)
;;   dist_cos_range  min(2, max(0, 1 - q.v/|v|)): cosine distance for a unit query and a vector as
;;                   stored, clamped to its range [0, 2] so rounding never gives -1e-7 for a vector
;;                   and itself; a zero vector is at distance 1; a vector whose |v|^2 under- or
;;                   overflows f32 is measured again scaled by its largest component
;;   dist_l2_range   |q - v|^2 (squared Euclidean distance)
;;   dist_ip_list, dist_l2_list  the same for v_j at base + list[j]*stride, list a u32 array of n
;;                   entries (a reader's cache of recently read vectors)
;;   dist_cosunit_list  min(2, max(0, 1 - q.v)) for unit (or zero) q and v: the cache holds cosine
;;                   vectors already normalised
;;   first_within_{ip,l2,cosunit}_list  the first j in [0, n) whose distance (exactly as the matching
;;                   list kernel computes it, promoted to f64) is <= limit, or -1: a graph prune's
;;                   "is this candidate covered by a kept node" test, stopping at the first cover
(module
  (import "env" "memory" (memory 1 65536))

  ;; q . v over dim floats.
  (func $dot_row (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (local $k i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $s f32)
    ;; 16 floats per iteration
    (local.set $k (i32.shr_u (local.get $dim) (i32.const 4)))
    (if (local.get $k)
      (then
        (loop $l16
          (local.set $acc0 (f32x4.add (local.get $acc0)
            (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
          (local.set $acc1 (f32x4.add (local.get $acc1)
            (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
          (local.set $acc2 (f32x4.add (local.get $acc2)
            (f32x4.mul (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b)))))
          (local.set $acc3 (f32x4.add (local.get $acc3)
            (f32x4.mul (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b)))))
          (local.set $a (i32.add (local.get $a) (i32.const 64)))
          (local.set $b (i32.add (local.get $b) (i32.const 64)))
          (br_if $l16 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    ;; 4-wide tail: 0..3 groups of four
    (local.set $k (i32.and (i32.shr_u (local.get $dim) (i32.const 2)) (i32.const 3)))
    (if (local.get $k)
      (then
        (loop $l4
          (local.set $acc0 (f32x4.add (local.get $acc0)
            (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (br_if $l4 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    ;; horizontal sum
    (local.set $acc0 (f32x4.add
      (f32x4.add (local.get $acc0) (local.get $acc1))
      (f32x4.add (local.get $acc2) (local.get $acc3))))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
    ;; scalar tail: 0..3 floats
    (local.set $k (i32.and (local.get $dim) (i32.const 3)))
    (if (local.get $k)
      (then
        (loop $l1
          (local.set $s (f32.add (local.get $s)
            (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
          (local.set $a (i32.add (local.get $a) (i32.const 4)))
          (local.set $b (i32.add (local.get $b) (i32.const 4)))
          (br_if $l1 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (local.get $s))

  ;; |q - v|^2 over dim floats; same shape as $dot_row.
  (func $l2sq_row (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (local $k i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local $s f32) (local $d f32)
    (local.set $k (i32.shr_u (local.get $dim) (i32.const 4)))
    (if (local.get $k)
      (then
        (loop $l16
          (local.set $d0 (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
          (local.set $d1 (f32x4.sub (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b))))
          (local.set $d2 (f32x4.sub (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b))))
          (local.set $d3 (f32x4.sub (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b))))
          (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $d0) (local.get $d0))))
          (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $d1) (local.get $d1))))
          (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $d2) (local.get $d2))))
          (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $d3) (local.get $d3))))
          (local.set $a (i32.add (local.get $a) (i32.const 64)))
          (local.set $b (i32.add (local.get $b) (i32.const 64)))
          (br_if $l16 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (local.set $k (i32.and (i32.shr_u (local.get $dim) (i32.const 2)) (i32.const 3)))
    (if (local.get $k)
      (then
        (loop $l4
          (local.set $d0 (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
          (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $d0) (local.get $d0))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (br_if $l4 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (local.set $acc0 (f32x4.add
      (f32x4.add (local.get $acc0) (local.get $acc1))
      (f32x4.add (local.get $acc2) (local.get $acc3))))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
    (local.set $k (i32.and (local.get $dim) (i32.const 3)))
    (if (local.get $k)
      (then
        (loop $l1
          (local.set $d (f32.sub (f32.load (local.get $a)) (f32.load (local.get $b))))
          (local.set $s (f32.add (local.get $s) (f32.mul (local.get $d) (local.get $d))))
          (local.set $a (i32.add (local.get $a) (i32.const 4)))
          (local.set $b (i32.add (local.get $b) (i32.const 4)))
          (br_if $l1 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (local.get $s))

  ;; min(2, max(0, 1 - q.v / |v|)) over dim floats, q a unit vector, v as stored (1 when v is zero):
  ;; q.v and v.v in one pass, same shape as $dot_row (four accumulators each).
  (func $cos_raw_row (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (local $k i32) (local $q0 i32) (local $v0p i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $nn0 v128) (local $nn1 v128) (local $nn2 v128) (local $nn3 v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $s f32) (local $n f32) (local $x f32)
    (local.set $q0 (local.get $a))
    (local.set $v0p (local.get $b))
    (local.set $k (i32.shr_u (local.get $dim) (i32.const 4)))
    (if (local.get $k)
      (then
        (loop $l16
          (local.set $v0 (v128.load (local.get $b)))
          (local.set $v1 (v128.load offset=16 (local.get $b)))
          (local.set $v2 (v128.load offset=32 (local.get $b)))
          (local.set $v3 (v128.load offset=48 (local.get $b)))
          (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (v128.load (local.get $a)) (local.get $v0))))
          (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (v128.load offset=16 (local.get $a)) (local.get $v1))))
          (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (v128.load offset=32 (local.get $a)) (local.get $v2))))
          (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (v128.load offset=48 (local.get $a)) (local.get $v3))))
          (local.set $nn0 (f32x4.add (local.get $nn0) (f32x4.mul (local.get $v0) (local.get $v0))))
          (local.set $nn1 (f32x4.add (local.get $nn1) (f32x4.mul (local.get $v1) (local.get $v1))))
          (local.set $nn2 (f32x4.add (local.get $nn2) (f32x4.mul (local.get $v2) (local.get $v2))))
          (local.set $nn3 (f32x4.add (local.get $nn3) (f32x4.mul (local.get $v3) (local.get $v3))))
          (local.set $a (i32.add (local.get $a) (i32.const 64)))
          (local.set $b (i32.add (local.get $b) (i32.const 64)))
          (br_if $l16 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (local.set $k (i32.and (i32.shr_u (local.get $dim) (i32.const 2)) (i32.const 3)))
    (if (local.get $k)
      (then
        (loop $l4
          (local.set $v0 (v128.load (local.get $b)))
          (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (v128.load (local.get $a)) (local.get $v0))))
          (local.set $nn0 (f32x4.add (local.get $nn0) (f32x4.mul (local.get $v0) (local.get $v0))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (br_if $l4 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (local.set $acc0 (f32x4.add
      (f32x4.add (local.get $acc0) (local.get $acc1))
      (f32x4.add (local.get $acc2) (local.get $acc3))))
    (local.set $nn0 (f32x4.add
      (f32x4.add (local.get $nn0) (local.get $nn1))
      (f32x4.add (local.get $nn2) (local.get $nn3))))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
    (local.set $n (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $nn0)) (f32x4.extract_lane 1 (local.get $nn0)))
      (f32.add (f32x4.extract_lane 2 (local.get $nn0)) (f32x4.extract_lane 3 (local.get $nn0)))))
    (local.set $k (i32.and (local.get $dim) (i32.const 3)))
    (if (local.get $k)
      (then
        (loop $l1
          (local.set $x (f32.load (local.get $b)))
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $a)) (local.get $x))))
          (local.set $n (f32.add (local.get $n) (f32.mul (local.get $x) (local.get $x))))
          (local.set $a (i32.add (local.get $a) (i32.const 4)))
          (local.set $b (i32.add (local.get $b) (i32.const 4)))
          (br_if $l1 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    ;; |v|^2 outside [1e-30, 1e30] (or not finite) has lost precision to underflow or overflow in f32:
    ;; measure again with v scaled by its largest component.
    (if (i32.eqz (i32.and (f32.ge (local.get $n) (f32.const 1e-30)) (f32.le (local.get $n) (f32.const 1e30))))
      (then (return (call $cos_raw_scaled (local.get $q0) (local.get $v0p) (local.get $dim)))))
    (f32.min (f32.const 2) (f32.max (f32.const 0)
      (f32.sub (f32.const 1) (f32.div (local.get $s) (f32.sqrt (local.get $n)))))))

  ;; $cos_raw_row for vectors of extreme magnitude (scalar, rare): v / max|v_i| has components in
  ;; [-1, 1], so neither sum can overflow or vanish. A zero vector gives 1.
  (func $cos_raw_scaled (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (local $i i32) (local $m f32) (local $x f32) (local $s f32) (local $n f32)
    (local.set $i (i32.const 0))
    (block $done
      (loop $max
        (br_if $done (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $m (f32.max (local.get $m)
          (f32.abs (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $max)))
    (if (f32.eq (local.get $m) (f32.const 0)) (then (return (f32.const 1))))
    (local.set $i (i32.const 0))
    (block $done
      (loop $sum
        (br_if $done (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $x (f32.div (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))) (local.get $m)))
        (local.set $s (f32.add (local.get $s)
          (f32.mul (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $x))))
        (local.set $n (f32.add (local.get $n) (f32.mul (local.get $x) (local.get $x))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sum)))
    (f32.min (f32.const 2) (f32.max (f32.const 0)
      (f32.sub (f32.const 1) (f32.div (local.get $s) (f32.sqrt (local.get $n)))))))

  ;; One pair: a . b
  (func (export "dot") (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (call $dot_row (local.get $a) (local.get $b) (local.get $dim)))

  ;; One pair: |a - b|^2
  (func (export "l2sq") (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (call $l2sq_row (local.get $a) (local.get $b) (local.get $dim)))

  ;; out[j] = 1 - q . v_j, v_j = base + j*stride, j in [0, n)
  (func (export "dist_ip_range") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $n i32) (param $out i32)
    (if (local.get $n)
      (then
        (loop $next
          (f32.store (local.get $out)
            (f32.sub (f32.const 1) (call $dot_row (local.get $q) (local.get $base) (local.get $dim))))
          (local.set $base (i32.add (local.get $base) (local.get $stride)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))))

  ;; out[j] = |q - v_j|^2, v_j = base + j*stride, j in [0, n)
  (func (export "dist_l2_range") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $n i32) (param $out i32)
    (if (local.get $n)
      (then
        (loop $next
          (f32.store (local.get $out) (call $l2sq_row (local.get $q) (local.get $base) (local.get $dim)))
          (local.set $base (i32.add (local.get $base) (local.get $stride)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))))

  ;; out[j] = min(2, max(0, 1 - q . v_j / |v_j|)), q a unit vector, v_j = base + j*stride as stored
  ;; (not normalised); a zero v_j gives 1.
  (func (export "dist_cos_range") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $n i32) (param $out i32)
    (if (local.get $n)
      (then
        (loop $next
          (f32.store (local.get $out) (call $cos_raw_row (local.get $q) (local.get $base) (local.get $dim)))
          (local.set $base (i32.add (local.get $base) (local.get $stride)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))))
  ;; out[j] = 1 - q . v_j, v_j = base + list[j]*stride, list: n u32
  (func (export "dist_ip_list") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $list i32) (param $n i32) (param $out i32)
    (if (local.get $n)
      (then
        (loop $next
          (f32.store (local.get $out)
            (f32.sub (f32.const 1) (call $dot_row (local.get $q)
              (i32.add (local.get $base) (i32.mul (i32.load (local.get $list)) (local.get $stride))) (local.get $dim))))
          (local.set $list (i32.add (local.get $list) (i32.const 4)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))))

  ;; out[j] = |q - v_j|^2, v_j = base + list[j]*stride, list: n u32
  (func (export "dist_l2_list") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $list i32) (param $n i32) (param $out i32)
    (if (local.get $n)
      (then
        (loop $next
          (f32.store (local.get $out)
            (call $l2sq_row (local.get $q)
              (i32.add (local.get $base) (i32.mul (i32.load (local.get $list)) (local.get $stride))) (local.get $dim)))
          (local.set $list (i32.add (local.get $list) (i32.const 4)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))))

  ;; p[i] *= f for i in [0, dim) (unit-normalising a query in place, f = 1/|p|)
  (func (export "scale") (param $p i32) (param $dim i32) (param $f f32)
    (local $k i32) (local $v v128)
    (local.set $v (f32x4.splat (local.get $f)))
    (local.set $k (i32.shr_u (local.get $dim) (i32.const 2)))
    (if (local.get $k)
      (then
        (loop $l4
          (v128.store (local.get $p) (f32x4.mul (v128.load (local.get $p)) (local.get $v)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $l4 (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (local.set $k (i32.and (local.get $dim) (i32.const 3)))
    (if (local.get $k)
      (then
        (loop $l1
          (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $f)))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br_if $l1 (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))))

  ;; out[j] = min(2, max(0, 1 - q . v_j)), q and v_j unit vectors (or zero), v_j = base + list[j]*stride
  (func (export "dist_cosunit_list") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $list i32) (param $n i32) (param $out i32)
    (if (local.get $n)
      (then
        (loop $next
          (f32.store (local.get $out)
            (f32.min (f32.const 2) (f32.max (f32.const 0) (f32.sub (f32.const 1)
              (call $dot_row (local.get $q)
                (i32.add (local.get $base) (i32.mul (i32.load (local.get $list)) (local.get $stride))) (local.get $dim))))))
          (local.set $list (i32.add (local.get $list) (i32.const 4)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))))

  ;; First j in [0, n) with (1 - q . v_j) <= limit, v_j = base + list[j]*stride; -1 when none.
  (func (export "first_within_ip_list") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $list i32) (param $n i32) (param $limit f64) (result i32)
    (local $j i32)
    (block $none
      (loop $next
        (br_if $none (i32.ge_u (local.get $j) (local.get $n)))
        (if (f64.le
              (f64.promote_f32 (f32.sub (f32.const 1) (call $dot_row (local.get $q)
                (i32.add (local.get $base) (i32.mul (i32.load (local.get $list)) (local.get $stride))) (local.get $dim))))
              (local.get $limit))
          (then (return (local.get $j))))
        (local.set $list (i32.add (local.get $list) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (i32.const -1))

  ;; First j in [0, n) with |q - v_j|^2 <= limit, v_j = base + list[j]*stride; -1 when none.
  (func (export "first_within_l2_list") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $list i32) (param $n i32) (param $limit f64) (result i32)
    (local $j i32)
    (block $none
      (loop $next
        (br_if $none (i32.ge_u (local.get $j) (local.get $n)))
        (if (f64.le
              (f64.promote_f32 (call $l2sq_row (local.get $q)
                (i32.add (local.get $base) (i32.mul (i32.load (local.get $list)) (local.get $stride))) (local.get $dim)))
              (local.get $limit))
          (then (return (local.get $j))))
        (local.set $list (i32.add (local.get $list) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (i32.const -1))

  ;; First j in [0, n) with min(2, max(0, 1 - q . v_j)) <= limit (unit q, v_j); -1 when none.
  (func (export "first_within_cosunit_list") (param $q i32) (param $base i32) (param $dim i32) (param $stride i32) (param $list i32) (param $n i32) (param $limit f64) (result i32)
    (local $j i32)
    (block $none
      (loop $next
        (br_if $none (i32.ge_u (local.get $j) (local.get $n)))
        (if (f64.le
              (f64.promote_f32 (f32.min (f32.const 2) (f32.max (f32.const 0) (f32.sub (f32.const 1)
                (call $dot_row (local.get $q)
                  (i32.add (local.get $base) (i32.mul (i32.load (local.get $list)) (local.get $stride))) (local.get $dim))))))
              (local.get $limit))
          (then (return (local.get $j))))
        (local.set $list (i32.add (local.get $list) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (i32.const -1))
)
