/**
 * The Chroma view of a data folder's collections.
 *
 * A Chroma collection has no dimension when it is created; a core collection needs one. So a
 * collection created over HTTP is *pending* until its first write, which creates the core collection
 * with the first vector's length (`materialize`). Pending collections live in a small sidecar file,
 * `chroma-pending.json` in the data folder (format below), so that an empty collection survives a
 * restart.
 *
 * Chroma-only facts about a core collection (its Chroma id, `configuration_json`, `schema`) are
 * stored in the core collection's metadata under the reserved key {@link RESERVED_METADATA_KEY};
 * every other key of the core metadata is the Chroma collection metadata, returned as is.
 *
 * INVARIANT: a collection's Chroma id never changes. It is the core uuid for collections created
 * through core directly, and the id assigned at HTTP creation (kept in the reserved key once
 * materialized) for collections created over HTTP.
 * INVARIANT: names are unique across pending and core collections together.
 *
 * Sidecar format (JSON, replaced atomically by write-to-temp + fsync + rename):
 * `{ "version": 1, "collections": [{ id, name, metadata, configuration, schema, metric }] }`.
 * A crash between creating the core collection and rewriting the sidecar leaves an entry whose id is
 * already in core; `open` drops such entries.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { AlreadyExistsError, ErrorCode, type Collection, type Metadata, type Metric, type OmenDB } from "@omendb/core";
import { ChromaHttpError, HttpErrorCode } from "./chroma-errors.js";
import { KeyedLock } from "./keyed-lock.js";

/** The core-metadata key holding Chroma-only facts; rejected in user metadata. */
export const RESERVED_METADATA_KEY = "omendb:chroma";
/** The sidecar file of pending collections, inside the data folder. */
export const PENDING_FILE = "chroma-pending.json";
/** Chroma's default distance space. */
export const DEFAULT_CHROMA_METRIC: Metric = "l2";

type JsonObject = Record<string, unknown>;

/** A collection as the Chroma routes see it. */
export interface ChromaCollection {
  /** The Chroma collection id (a UUID). */
  id: string;
  name: string;
  /** User metadata, null when empty. */
  metadata: Metadata | null;
  /** Chroma's `configuration_json`, as stored. */
  configuration: JsonObject;
  schema: JsonObject | null;
  metric: Metric;
  /** null while pending. */
  dimension: number | null;
  /** The core collection, null while pending. */
  core: Collection | null;
}

interface PendingEntry {
  id: string;
  name: string;
  metadata: Metadata | null;
  configuration: JsonObject;
  schema: JsonObject | null;
  metric: Metric;
}

interface ReservedExtras {
  id: string;
  configuration: JsonObject;
  schema: JsonObject | null;
}

/** What `create` needs. */
export interface CreateCollectionRequest {
  name: string;
  metadata?: Record<string, unknown> | null;
  configuration?: Record<string, unknown> | null;
  schema?: Record<string, unknown> | null;
  getOrCreate?: boolean;
}

/** What `modify` changes; absent fields stay. */
export interface ModifyCollectionRequest {
  name?: string | null;
  metadata?: Record<string, unknown> | null;
  configuration?: Record<string, unknown> | null;
}

const CATALOG_KEY = "catalog";
const NAME_RULE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}[a-zA-Z0-9]$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const METRICS: readonly Metric[] = ["l2", "cosine", "ip"];

/** Chroma collections over one open {@link OmenDB}. One instance per database per process. */
export class ChromaCatalog {
  private pending: PendingEntry[];
  private readonly lock = new KeyedLock();
  private readonly pendingFile: string;
  private readonly nameById = new Map<string, string>();

  private constructor(
    private readonly db: OmenDB,
    pending: PendingEntry[],
  ) {
    this.pending = pending;
    this.pendingFile = path.join(db.path, PENDING_FILE);
  }

  /**
   * Loads the pending collections of `db`'s folder, dropping those already materialized.
   * @throws Error when the sidecar file exists but is not valid JSON of the expected shape.
   */
  static open(db: OmenDB): ChromaCatalog {
    const file = path.join(db.path, PENDING_FILE);
    let pending: PendingEntry[] = [];
    if (fs.existsSync(file)) {
      const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as { version?: unknown; collections?: unknown };
      if (parsed.version !== 1 || !Array.isArray(parsed.collections)) {
        throw new Error(`${file}: not a version 1 pending-collections file`);
      }
      pending = parsed.collections as PendingEntry[];
    }
    const catalog = new ChromaCatalog(db, pending);
    const coreIds = new Set(catalog.coreCollections().map((c) => c.id));
    const coreNames = new Set(catalog.coreCollections().map((c) => c.name));
    const kept = pending.filter((p) => !coreIds.has(p.id) && !coreNames.has(p.name));
    if (kept.length !== pending.length) {
      catalog.pending = kept;
      catalog.persist();
    }
    return catalog;
  }

  /** Every collection: core collections in core's order, then pending ones in creation order. */
  list(): ChromaCollection[] {
    return [...this.coreCollections(), ...this.pending.map(pendingView)];
  }

  /** The collection named `name`, if any. */
  findByName(name: string): ChromaCollection | undefined {
    return this.list().find((c) => c.name === name);
  }

  /**
   * The collection whose Chroma id is `id`, if any. Record routes call this on every request, so the
   * name last seen for an id is remembered and checked first (a rename or delete makes it miss, and
   * the full scan refreshes it).
   */
  findById(id: string): ChromaCollection | undefined {
    const pending = this.pending.find((p) => p.id === id);
    if (pending !== undefined) return pendingView(pending);
    const cachedName = this.nameById.get(id);
    if (cachedName !== undefined && this.db.hasCollection(cachedName)) {
      const view = coreView(this.db.getCollection(cachedName));
      if (view.id === id) return view;
    }
    const found = this.coreCollections().find((c) => c.id === id);
    if (found === undefined) this.nameById.delete(id);
    else this.nameById.set(id, found.name);
    return found;
  }

  /**
   * The collection with this Chroma id.
   * @throws ChromaHttpError NOT_FOUND.
   */
  requireById(id: string): ChromaCollection {
    const found = this.findById(id);
    if (found === undefined) throw new ChromaHttpError(HttpErrorCode.NOT_FOUND, `Collection ${id} does not exist`);
    return found;
  }

  /**
   * The collection named `nameOrId`, or else with that Chroma id (Chroma's JS client passes names on
   * GET/DELETE of a collection and ids on PUT).
   * @throws ChromaHttpError NOT_FOUND.
   */
  requireByNameOrId(nameOrId: string): ChromaCollection {
    const found = this.findByName(nameOrId) ?? this.findById(nameOrId);
    if (found === undefined) throw new ChromaHttpError(HttpErrorCode.NOT_FOUND, `Collection [${nameOrId}] does not exist`);
    return found;
  }

  /**
   * Creates a pending collection, or returns the existing one when `getOrCreate` is set.
   * @throws ChromaHttpError BAD_REQUEST for an invalid name, metadata or space.
   * @throws AlreadyExistsError (code COLLECTION_EXISTS) when the name is taken and `getOrCreate` is not set.
   */
  async create(request: CreateCollectionRequest): Promise<{ collection: ChromaCollection; created: boolean }> {
    validateName(request.name);
    const metadata = userMetadata(request.metadata);
    const configuration = { ...(request.configuration ?? {}) };
    const metric = resolveMetric(configuration, metadata);
    return this.lock.run(CATALOG_KEY, async () => {
      const existing = this.findByName(request.name);
      if (existing !== undefined) {
        if (request.getOrCreate === true) return { collection: existing, created: false };
        throw collectionExists(request.name);
      }
      const entry: PendingEntry = {
        id: randomUUID(),
        name: request.name,
        metadata,
        configuration: withSpace(configuration, metric),
        schema: request.schema ?? null,
        metric,
      };
      this.pending = [...this.pending, entry];
      this.persist();
      return { collection: pendingView(entry), created: true };
    });
  }

  /**
   * Renames a collection and/or replaces its metadata and/or merges configuration changes.
   * @throws ChromaHttpError NOT_FOUND / BAD_REQUEST (including a change of distance space); 409 on a name clash.
   */
  async modify(id: string, request: ModifyCollectionRequest): Promise<ChromaCollection> {
    const newName = request.name ?? undefined;
    if (newName !== undefined) validateName(newName);
    const newMetadata = request.metadata === undefined || request.metadata === null ? undefined : userMetadata(request.metadata);
    return this.lock.run(CATALOG_KEY, async () => {
      const current = this.requireById(id);
      if (newName !== undefined && newName !== current.name && this.findByName(newName) !== undefined) {
        throw collectionExists(newName);
      }
      if (newMetadata !== undefined) {
        const space = newMetadata?.["hnsw:space"];
        if (space !== undefined && space !== current.metric) {
          throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, "changing the distance function of a collection once it is created is not supported");
        }
      }
      const configuration = mergeConfiguration(current.configuration, request.configuration ?? undefined);
      const metadata = newMetadata === undefined ? current.metadata : newMetadata;
      if (current.core === null) {
        this.pending = this.pending.map((p) =>
          p.id === id ? { ...p, name: newName ?? p.name, metadata, configuration } : p,
        );
        this.persist();
      } else {
        const changes: { name?: string; metadata?: Metadata } = {};
        if (newName !== undefined && newName !== current.name) changes.name = newName;
        if (newMetadata !== undefined || request.configuration != null) {
          changes.metadata = coreMetadata(metadata, { id: current.id, configuration, schema: current.schema });
        }
        if (changes.name !== undefined || changes.metadata !== undefined) await current.core.modify(changes);
      }
      return this.requireById(id);
    });
  }

  /**
   * Deletes the collection named `name` (falling back to a Chroma id) and its records.
   * @throws ChromaHttpError NOT_FOUND.
   */
  async delete(nameOrId: string): Promise<void> {
    await this.lock.run(CATALOG_KEY, async () => {
      const current = this.requireByNameOrId(nameOrId);
      if (current.core === null) {
        this.pending = this.pending.filter((p) => p.id !== current.id);
        this.persist();
      } else {
        await this.db.deleteCollection(current.name);
      }
    });
  }

  /**
   * The core collection behind Chroma id `id`, creating it with `dimension` if it is still pending.
   * Callers hold the collection's write lock.
   * @throws ChromaHttpError NOT_FOUND when the collection was deleted meanwhile.
   */
  async materialize(id: string, dimension: number): Promise<Collection> {
    return this.lock.run(CATALOG_KEY, async () => {
      const current = this.requireById(id);
      if (current.core !== null) return current.core;
      const entry = this.pending.find((p) => p.id === id)!;
      const core = await this.db.createCollection(entry.name, {
        dimension,
        metric: entry.metric,
        metadata: coreMetadata(entry.metadata, { id: entry.id, configuration: entry.configuration, schema: entry.schema }),
      });
      this.pending = this.pending.filter((p) => p.id !== id);
      this.persist();
      return core;
    });
  }

  /** Pending (not yet materialized) collections, for `omendb stats`. */
  pendingCount(): number {
    return this.pending.length;
  }

  private coreCollections(): ChromaCollection[] {
    return this.db.listCollections().map((info) => coreView(this.db.getCollection(info.name)));
  }

  private persist(): void {
    const tmp = `${this.pendingFile}.tmp`;
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, JSON.stringify({ version: 1, collections: this.pending }));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.pendingFile);
  }
}

/** The Chroma view of a core collection: user metadata without the reserved key, id from it or the uuid. */
function coreView(core: Collection): ChromaCollection {
  const info = core.info();
  const { [RESERVED_METADATA_KEY]: reserved, ...rest } = info.metadata;
  const extras = parseExtras(reserved);
  return {
    id: extras?.id ?? info.uuid,
    name: info.name,
    metadata: Object.keys(rest).length === 0 ? null : rest,
    configuration: extras?.configuration ?? withSpace({}, info.metric),
    schema: extras?.schema ?? null,
    metric: info.metric,
    dimension: info.dimension,
    core,
  };
}

function pendingView(entry: PendingEntry): ChromaCollection {
  return { ...entry, dimension: null, core: null };
}

function coreMetadata(metadata: Metadata | null, extras: ReservedExtras): Metadata {
  return { ...(metadata ?? {}), [RESERVED_METADATA_KEY]: extras as unknown as Metadata };
}

function parseExtras(value: unknown): ReservedExtras | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Partial<ReservedExtras>;
  if (typeof v.id !== "string") return undefined;
  return {
    id: v.id,
    configuration: typeof v.configuration === "object" && v.configuration !== null ? v.configuration : {},
    schema: typeof v.schema === "object" && v.schema !== null ? v.schema : null,
  };
}

/**
 * Chroma's collection-name rule (3–512 of [a-zA-Z0-9._-], alphanumeric at both ends, no "..", not an
 * IPv4 address) capped at core's 256 characters, so that a pending collection can always be created in core.
 */
function validateName(name: string): void {
  if (!NAME_RULE.test(name) || name.includes("..") || IPV4.test(name)) {
    throw new ChromaHttpError(
      HttpErrorCode.BAD_REQUEST,
      `invalid collection name ${JSON.stringify(name)}: use 3-256 characters from [a-zA-Z0-9._-], starting and ending with a letter or digit, without ".." and not an IPv4 address`,
    );
  }
}

/** Wire metadata → stored user metadata: null values dropped, reserved key refused, {} → null. */
function userMetadata(value: Record<string, unknown> | null | undefined): Metadata | null {
  if (value === undefined || value === null) return null;
  const out: Metadata = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === RESERVED_METADATA_KEY) {
      throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `collection metadata key ${JSON.stringify(key)} is reserved`);
    }
    if (v !== null && v !== undefined) out[key] = v as Metadata[string];
  }
  return Object.keys(out).length === 0 ? null : out;
}

/** The distance space: configuration (hnsw, then spann) wins over metadata `hnsw:space`; default l2. */
function resolveMetric(configuration: JsonObject, metadata: Metadata | null): Metric {
  const fromConfig = spaceOf(configuration["hnsw"]) ?? spaceOf(configuration["spann"]);
  const candidate = fromConfig ?? metadata?.["hnsw:space"] ?? DEFAULT_CHROMA_METRIC;
  if (typeof candidate !== "string" || !METRICS.includes(candidate as Metric)) {
    throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `unsupported distance space ${JSON.stringify(candidate)}: use l2, cosine or ip`);
  }
  return candidate as Metric;
}

function spaceOf(section: unknown): unknown {
  if (typeof section !== "object" || section === null) return undefined;
  const space = (section as JsonObject)["space"];
  return space === null ? undefined : space;
}

/** Sets `space` in the section that holds it (spann if given, else hnsw). */
function withSpace(configuration: JsonObject, metric: Metric): JsonObject {
  const spann = configuration["spann"];
  if (typeof spann === "object" && spann !== null) {
    return { ...configuration, spann: { ...(spann as JsonObject), space: metric } };
  }
  const hnsw = configuration["hnsw"];
  const base = typeof hnsw === "object" && hnsw !== null ? (hnsw as JsonObject) : {};
  return { ...configuration, hnsw: { ...base, space: metric } };
}

/** Shallow-merges `hnsw` / `spann` / `embedding_function` updates; the space cannot change. */
function mergeConfiguration(current: JsonObject, update: Record<string, unknown> | undefined): JsonObject {
  if (update === undefined) return current;
  const out: JsonObject = { ...current };
  for (const section of ["hnsw", "spann"] as const) {
    const patch = update[section];
    if (typeof patch !== "object" || patch === null) continue;
    const { space: _ignored, ...rest } = patch as JsonObject;
    const base = typeof current[section] === "object" && current[section] !== null ? (current[section] as JsonObject) : {};
    out[section] = { ...base, ...rest };
  }
  if (update["embedding_function"] !== undefined && update["embedding_function"] !== null) {
    out["embedding_function"] = update["embedding_function"];
  }
  return out;
}

function collectionExists(name: string): AlreadyExistsError {
  return new AlreadyExistsError(ErrorCode.COLLECTION_EXISTS, `Collection [${name}] already exists`);
}
