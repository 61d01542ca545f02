/**
 * How many search threads the shared structures make room for. Every PQ code store keeps one
 * scratch block per search thread in its shared WebAssembly memory (the query, a target list and its
 * distances), so worker threads search the same memory at once without touching each other's
 * scratch or the owner's (vectors are read by each thread's own `VectorReader`). `search-pool.ts`
 * caps its pool at this.
 */

/** Search threads a PQ code store has scratch blocks for. */
export const MAX_SEARCH_THREADS = 4;

/** Targets one scratch block holds; longer batches are computed in chunks of this many. */
export const THREAD_BLOCK_TARGETS = 256;
