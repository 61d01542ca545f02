/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written by hand: request counts
 * and a latency histogram per method/route/status, requests in flight, and gauges read at scrape time
 * (collections, records per collection, process memory). Routes are Fastify route patterns, never raw
 * URLs, so label cardinality stays bounded.
 */
import type { ChromaCatalog } from "./chroma-catalog.js";

/** Upper bounds (seconds) of the latency histogram buckets. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

/** Request counters and histograms of one server. */
export class ServerMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  /** Requests being handled right now. */
  inFlight = 0;

  /** Records one finished request. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const countKey = labels({ method, route, status: String(status) });
    this.requests.set(countKey, (this.requests.get(countKey) ?? 0) + 1);
    const histKey = labels({ method, route });
    let h = this.latency.get(histKey);
    if (h === undefined) {
      h = { buckets: new Array<number>(LATENCY_BUCKETS.length).fill(0), sum: 0, count: 0 };
      this.latency.set(histKey, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) h.buckets[i]!++;
    h.sum += seconds;
    h.count++;
  }

  /** The exposition text, with collection gauges read from `catalog`. */
  async render(catalog: ChromaCatalog): Promise<string> {
    const out: string[] = [];
    out.push("# HELP omendb_http_requests_total HTTP requests handled, by method, route and status.");
    out.push("# TYPE omendb_http_requests_total counter");
    for (const [key, n] of this.requests) out.push(`omendb_http_requests_total{${key}} ${n}`);
    out.push("# HELP omendb_http_request_duration_seconds HTTP request latency.");
    out.push("# TYPE omendb_http_request_duration_seconds histogram");
    for (const [key, h] of this.latency) {
      LATENCY_BUCKETS.forEach((le, i) => out.push(`omendb_http_request_duration_seconds_bucket{${key},le="${le}"} ${h.buckets[i]}`));
      out.push(`omendb_http_request_duration_seconds_bucket{${key},le="+Inf"} ${h.count}`);
      out.push(`omendb_http_request_duration_seconds_sum{${key}} ${h.sum}`);
      out.push(`omendb_http_request_duration_seconds_count{${key}} ${h.count}`);
    }
    out.push("# HELP omendb_http_requests_in_flight HTTP requests being handled.");
    out.push("# TYPE omendb_http_requests_in_flight gauge");
    out.push(`omendb_http_requests_in_flight ${this.inFlight}`);
    const collections = catalog.list();
    out.push("# HELP omendb_collections Collections in the data folder (including ones never written to).");
    out.push("# TYPE omendb_collections gauge");
    out.push(`omendb_collections ${collections.length}`);
    out.push("# HELP omendb_collection_records Records per collection.");
    out.push("# TYPE omendb_collection_records gauge");
    for (const c of collections) {
      const n = c.core === null ? 0 : await c.core.count();
      out.push(`omendb_collection_records{${labels({ collection: c.name })}} ${n}`);
    }
    const mem = process.memoryUsage();
    out.push("# HELP omendb_process_resident_memory_bytes Resident set size.");
    out.push("# TYPE omendb_process_resident_memory_bytes gauge");
    out.push(`omendb_process_resident_memory_bytes ${mem.rss}`);
    out.push("# HELP omendb_process_heap_used_bytes V8 heap in use.");
    out.push("# TYPE omendb_process_heap_used_bytes gauge");
    out.push(`omendb_process_heap_used_bytes ${mem.heapUsed}`);
    return `${out.join("\n")}\n`;
  }
}

/** `k="v",...` with Prometheus escaping (backslash, quote, newline). */
function labels(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}
