/**
 * Searches another thread's DiskANN index in place: the owner's graph, PQ codes and vectors, all in
 * shared memory, read through this thread's own scratch (visited stamps, candidate list, PQ table,
 * re-rank buffers). Used by the search pool's worker threads.
 *
 * INVARIANTS: never writes shared state; results equal `AnnIndex.search` on the same index state
 * (the same `searchGraph`, kernels and tie-breaks). Callers hold the read side of the database's
 * gate for the whole search.
 */
import { PQReader } from "../quantization/pq-reader.js";
import { ArenaReader, type ArenaShare } from "../vector/arena-reader.js";
import { type AnnShare, type IndexHits, searchGraph } from "./ann-index.js";
import { VamanaGraph } from "./vamana-graph.js";

/** One search thread's view of one collection's index. */
export class AnnReader {
  private readonly graph: VamanaGraph;
  private readonly pq: PQReader;
  private readonly arena: ArenaReader;

  /**
   * @param index the index's {@link AnnShare}
   * @param arena the collection arena's {@link ArenaShare}
   * @param thread this thread's scratch block, below `MAX_SEARCH_THREADS`
   */
  constructor(
    private readonly index: AnnShare,
    arena: ArenaShare,
    thread: number,
  ) {
    this.graph = VamanaGraph.attach(index.graph);
    this.pq = new PQReader(index.pq, thread);
    this.arena = new ArenaReader(arena, thread);
  }

  /** The `k` nearest indexed slots to `query` (unit-normalised for cosine), as `AnnIndex.search`. */
  search(query: Float32Array, k: number, efSearch = this.index.efSearch): IndexHits {
    this.graph.refresh();
    const kind = this.index.tableKind;
    return searchGraph(this.graph, (q) => this.pq.setQuery(q, kind), this.pq.distances, (q, slots) => this.arena.distancesTo(q, slots), query, k, efSearch);
  }
}
