/**
 * Exact filtered ground truth and the recall judge of the filtered benchmark.
 *
 * Ground truth, per query and filter case: the k nearest base rows among those the case's oracle
 * matches, by exact cosine distance (1 − cos) in float64, ties broken by the smaller row. Computed by
 * brute force: the WebAssembly SIMD `dots` kernel (simd-kernels.ts) gives every row's float32 distance
 * to the query once; per case, every matching row whose float32 distance is within 1e-4 of the case's
 * k-th smallest float32 distance is re-scored in float64 (float32 error is ~1e-7 here, so no true
 * top-k row can be left out), and the k best of those are kept.
 * Kernel memory (byte offsets, 16-byte aligned, pd = dim rounded up to 16):
 * [query: pd f32][base: n × pd f32][scores: n f32].
 *
 * Judge: a returned row is a hit when the case matches it and its exact distance is ≤ the k-th true
 * distance + 1e-6 (ties count, as ../shared/datasets/README.md prescribes); recall@k of a query is
 * hits / min(k, matches). Rows the filter does not match and repeated rows are counted separately.
 */
import { trueDistance } from "./distance.js";
import type { FilteredWorkload } from "./filtered-workload.js";
import { paddedDim, SimdKernels } from "./simd-kernels.js";
import { readFvecs } from "./vector-files.js";

const SHORTLIST_MARGIN = 1e-4;
const TIE_EPS = 1e-6;

/** Ground truth of one filter case. */
export interface CaseTruth {
  /** Base rows the oracle matches. */
  matched: number;
  /** 1 at the rows the oracle matches. */
  mask: Uint8Array;
  /** queries × k nearest matching rows, best first; −1 past `matched`. */
  ids: Int32Array;
  /** Their exact float64 distances; NaN past `matched`. */
  dists: Float64Array;
}

/** Ground truth of every case of a workload. */
export interface FilteredTruth {
  k: number;
  cases: CaseTruth[];
  seconds: number;
}

/** What the judge makes of one result list. */
export interface Judgement {
  /** Returned rows within the tie-aware top k of the matching rows. */
  hits: number;
  /** min(k, matches): the hits a perfect answer has, and the least count allowed. */
  expected: number;
  /** Rows returned that the filter does not match. */
  wrong: number;
  /** Rows returned twice. */
  duplicates: number;
}

/** Computes exact filtered top-k for every query and case (one thread). */
export function computeFilteredTruth(w: FilteredWorkload, k: number, log: (line: string) => void): FilteredTruth {
  const t0 = performance.now();
  const { base, queries } = w;
  const n = base.count;
  const dim = base.dim;
  const pd = paddedDim(dim);
  const kernels = new SimdKernels();
  const qPtr = 0;
  const basePtr = pd * 4;
  const scorePtr = basePtr + n * pd * 4;
  kernels.ensure(scorePtr + n * 4);
  const padded = kernels.f32(basePtr, n * pd);
  const norms = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const row = base.data.subarray(r * dim, (r + 1) * dim);
    padded.set(row, r * pd);
    let s = 0;
    for (let i = 0; i < dim; i++) s += row[i]! * row[i]!;
    norms[r] = Math.sqrt(s);
  }
  const qView = kernels.f32(qPtr, pd);
  const scores = kernels.f32(scorePtr, n);

  const rowsOf: Int32Array[] = [];
  const cases: CaseTruth[] = w.cases.map((c) => {
    const mask = new Uint8Array(n);
    const rows: number[] = [];
    for (let r = 0; r < n; r++) {
      if (c.test(r)) {
        mask[r] = 1;
        rows.push(r);
      }
    }
    rowsOf.push(Int32Array.from(rows));
    return { matched: rows.length, mask, ids: new Int32Array(queries.count * k).fill(-1), dists: new Float64Array(queries.count * k).fill(NaN) };
  });

  const d32 = new Float64Array(n);
  const topD = new Float64Array(k);
  for (let q = 0; q < queries.count; q++) {
    const query = queries.data.subarray(q * dim, (q + 1) * dim);
    qView.fill(0);
    qView.set(query);
    let qs = 0;
    for (let i = 0; i < dim; i++) qs += query[i]! * query[i]!;
    const qn = Math.sqrt(qs);
    kernels.dots(qPtr, basePtr, n, pd, scorePtr);
    for (let r = 0; r < n; r++) d32[r] = qn > 0 && norms[r]! > 0 ? 1 - scores[r]! / (qn * norms[r]!) : 1;
    for (let ci = 0; ci < cases.length; ci++) {
      const rows = rowsOf[ci]!;
      const truth = cases[ci]!;
      if (rows.length === 0) continue;
      // The k-th smallest float32 distance among the matching rows (sorted insertion into topD).
      let filled = 0;
      for (let i = 0; i < rows.length; i++) {
        const d = d32[rows[i]!]!;
        if (filled === k && d >= topD[k - 1]!) continue;
        let j = filled < k ? filled++ : k - 1;
        while (j > 0 && topD[j - 1]! > d) {
          topD[j] = topD[j - 1]!;
          j--;
        }
        topD[j] = d;
      }
      const limit = topD[filled - 1]! + SHORTLIST_MARGIN;
      const shortlist: { row: number; d: number }[] = [];
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        if (d32[row]! <= limit) shortlist.push({ row, d: trueDistance("cosine", query, base.data.subarray(row * dim, (row + 1) * dim)) });
      }
      shortlist.sort((a, b) => a.d - b.d || a.row - b.row);
      for (let i = 0; i < Math.min(k, shortlist.length); i++) {
        truth.ids[q * k + i] = shortlist[i]!.row;
        truth.dists[q * k + i] = shortlist[i]!.d;
      }
    }
    if ((q + 1) % 200 === 0) log(`    ground truth: ${q + 1}/${queries.count} queries`);
  }
  return { k, cases, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Compares the unfiltered case with the dataset's own ground-truth files: the k-th distance of every
 * query must agree within 1e-5. Returns the number of queries that disagree (0 expected).
 */
export function checkAgainstDatasetTruth(w: FilteredWorkload, truth: FilteredTruth): number {
  const baseline = w.cases.findIndex((c) => c.group === "baseline");
  const gt = readFvecs(w.spec.gtDistFile, 0, w.queries.count);
  const k = truth.k;
  let bad = 0;
  for (let q = 0; q < w.queries.count; q++) {
    const mine = truth.cases[baseline]!.dists[q * k + k - 1]!;
    const theirs = gt.data[q * gt.dim + k - 1]!;
    if (!(Math.abs(mine - theirs) <= 1e-5)) bad++;
  }
  return bad;
}

/** Judges the rows returned for query `q` under case `ci`. */
export function judge(w: FilteredWorkload, truth: FilteredTruth, ci: number, q: number, returned: readonly number[]): Judgement {
  const t = truth.cases[ci]!;
  const k = truth.k;
  const expected = Math.min(k, t.matched);
  const out: Judgement = { hits: 0, expected, wrong: 0, duplicates: 0 };
  if (expected === 0) {
    out.wrong = returned.length;
    return out;
  }
  const kth = t.dists[q * k + expected - 1]!;
  const dim = w.base.dim;
  const query = w.queries.data.subarray(q * dim, (q + 1) * dim);
  const seen = new Set<number>();
  for (const row of returned) {
    if (seen.has(row)) {
      out.duplicates++;
      continue;
    }
    seen.add(row);
    if (!Number.isInteger(row) || row < 0 || row >= w.base.count || t.mask[row] !== 1) {
      out.wrong++;
      continue;
    }
    if (trueDistance("cosine", query, w.base.data.subarray(row * dim, (row + 1) * dim)) <= kth + TIE_EPS) out.hits++;
  }
  out.hits = Math.min(out.hits, expected);
  return out;
}
