/**
 * Searches another thread's DiskANN index in place: the owner's graph and PQ codes in shared memory,
 * and the collection's vector file through this thread's own reader, with this thread's own scratch
 * (visited stamps, candidate list, PQ table, re-rank buffers). Used by the search pool's worker
 * threads.
 *
 * INVARIANTS: never writes shared state; results equal `AnnIndex.search` on the same index state
 * (the same `searchGraph`, kernels and tie-breaks). Callers hold the read side of the database's
 * gate for the whole search.
 */
import { PQReader } from "../quantization/pq-reader.js";
import { VectorReader, type VectorShare } from "../vector/vector-reader.js";
import { type AnnShare, type IndexHits, searchGraph } from "./ann-index.js";
import { VamanaGraph } from "./vamana-graph.js";

/** One search thread's view of one collection's index. */
export class AnnReader {
  private readonly graph: VamanaGraph;
  private readonly pq: PQReader;
  private readonly vectors: VectorReader;

  /**
   * @param index the index's {@link AnnShare}
   * @param vectors the collection arena's {@link VectorShare}
   * @param thread this thread's scratch block in the PQ store, below `MAX_SEARCH_THREADS`
   * @throws OmenDBError code `IO` when the vector file cannot be opened.
   */
  constructor(
    private readonly index: AnnShare,
    vectors: VectorShare,
    thread: number,
  ) {
    this.graph = VamanaGraph.attach(index.graph);
    this.pq = new PQReader(index.pq, thread);
    this.vectors = new VectorReader(vectors, { cache: false }); // writes to a slot are not announced here
  }

  /** The `k` nearest indexed slots to `query` (unit-normalised for cosine), as `AnnIndex.search`. */
  search(query: Float32Array, k: number, efSearch = this.index.efSearch): IndexHits {
    this.graph.refresh();
    const kind = this.index.tableKind;
    return searchGraph(this.graph, (q) => this.pq.setQuery(q, kind), this.pq.distances, (q, slots) => this.vectors.distancesTo(q, slots), query, k, efSearch);
  }

  /** Closes this thread's descriptor of the vector file. */
  close(): void {
    this.vectors.close();
  }
}
