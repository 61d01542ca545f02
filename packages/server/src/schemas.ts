/**
 * TypeBox schemas of the Chroma v2 wire format. The same objects validate requests (compiled with
 * TypeBox's compiler, see `app.ts`) and generate the OpenAPI 3.1 document served at `/openapi.json`,
 * so the two cannot drift. Shapes follow the generated types of the official `chromadb@3.5` client
 * (`src/api/types.gen.ts`); objects accept unknown extra fields, as Chroma's server does.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

/** `T | null`. */
function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** Chroma's error body. */
export const ErrorResponse = Type.Object(
  {
    error: Type.String({ description: "Chroma error type, e.g. InvalidArgumentError, NotFoundError." }),
    message: Type.String(),
    code: Type.Optional(Type.String({ description: "OmenDB extension: the OmenDB or server error code." })),
  },
  { description: "An error." },
);

const Scalar = Type.Union([Type.Boolean(), Type.Number(), Type.String()]);

/** One metadata value: a scalar, a list of scalars, null, or an object (sparse vector / nested). */
export const MetadataValue = Type.Union([
  Type.Boolean(),
  Type.Number(),
  Type.String(),
  Type.Null(),
  Type.Array(Scalar),
  Type.Object({}, { additionalProperties: true, description: "A sparse vector or (OmenDB extension) a nested object." }),
]);

/** A metadata map (Chroma's `HashMap`). */
export const HashMap = Type.Record(Type.String(), MetadataValue);

/** Which fields `get` / `query` return. */
export const Include = Type.Union([
  Type.Literal("distances"),
  Type.Literal("documents"),
  Type.Literal("embeddings"),
  Type.Literal("metadatas"),
  Type.Literal("uris"),
]);
/** The TypeScript type of {@link Include}. */
export type Include = Static<typeof Include>;

/** A `where` metadata filter; validated by core's filter parser. */
export const Where = Type.Unknown({
  description: "Metadata filter: Chroma's `where` language ($eq $ne $gt $gte $lt $lte $in $nin $contains $not_contains $and $or), plus OmenDB's $exists and $not.",
});

/** A `where_document` filter. */
export const WhereDocument = Type.Unknown({
  description: "Document filter: { $contains | $not_contains | $regex | $not_regex: string } or { $and | $or: [...] }.",
});

/** Dense embeddings: arrays of numbers, or base64 strings of little-endian float32. */
export const EmbeddingsPayload = Type.Union([Type.Array(Type.Array(Type.Number())), Type.Array(Type.String())]);

/** Update embeddings: like {@link EmbeddingsPayload}, with null meaning "keep the stored vector". */
export const UpdateEmbeddingsPayload = Type.Array(Nullable(Type.Union([Type.Array(Type.Number()), Type.String()])));

const Documents = Nullable(Type.Array(Nullable(Type.String())));
const Metadatas = Nullable(Type.Array(Nullable(HashMap)));
const Uris = Nullable(Type.Array(Nullable(Type.String())));

/** Body of `add` and `upsert`. */
export const AddRecordsPayload = Type.Object({
  ids: Type.Array(Type.String()),
  embeddings: EmbeddingsPayload,
  documents: Type.Optional(Documents),
  metadatas: Type.Optional(Metadatas),
  uris: Type.Optional(Uris),
});
/** The TypeScript type of {@link AddRecordsPayload}. */
export type AddRecordsPayload = Static<typeof AddRecordsPayload>;

/** Body of `update`: only `ids` is required. */
export const UpdateRecordsPayload = Type.Object({
  ids: Type.Array(Type.String()),
  embeddings: Type.Optional(Nullable(UpdateEmbeddingsPayload)),
  documents: Type.Optional(Documents),
  metadatas: Type.Optional(Metadatas),
  uris: Type.Optional(Uris),
});
/** The TypeScript type of {@link UpdateRecordsPayload}. */
export type UpdateRecordsPayload = Static<typeof UpdateRecordsPayload>;

/** Body of `get`. */
export const GetRequestPayload = Type.Object({
  ids: Type.Optional(Nullable(Type.Array(Type.String()))),
  where: Type.Optional(Where),
  where_document: Type.Optional(WhereDocument),
  include: Type.Optional(Type.Array(Include)),
  limit: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
  offset: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
});
/** The TypeScript type of {@link GetRequestPayload}. */
export type GetRequestPayload = Static<typeof GetRequestPayload>;

/** Response of `get`: parallel arrays; fields not included are null. */
export const GetResponse = Type.Object({
  ids: Type.Array(Type.String()),
  documents: Type.Optional(Nullable(Type.Array(Nullable(Type.String())))),
  embeddings: Type.Optional(Nullable(Type.Array(Type.Array(Type.Number())))),
  metadatas: Type.Optional(Nullable(Type.Array(Nullable(HashMap)))),
  uris: Type.Optional(Nullable(Type.Array(Nullable(Type.String())))),
  include: Type.Array(Include),
});

/** Body of `query`. */
export const QueryRequestPayload = Type.Object({
  query_embeddings: EmbeddingsPayload,
  n_results: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
  ids: Type.Optional(Nullable(Type.Array(Type.String()))),
  where: Type.Optional(Where),
  where_document: Type.Optional(WhereDocument),
  include: Type.Optional(Type.Array(Include)),
});
/** The TypeScript type of {@link QueryRequestPayload}. */
export type QueryRequestPayload = Static<typeof QueryRequestPayload>;

/** Query string of `query`: applied to each query's ranked results. */
export const QueryQuerystring = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
});
/** The TypeScript type of {@link QueryQuerystring}. */
export type QueryQuerystring = Static<typeof QueryQuerystring>;

/** Response of `query`: one inner array per query embedding, ascending distance. */
export const QueryResponse = Type.Object({
  ids: Type.Array(Type.Array(Type.String())),
  distances: Type.Optional(Nullable(Type.Array(Type.Array(Nullable(Type.Number()))))),
  documents: Type.Optional(Nullable(Type.Array(Type.Array(Nullable(Type.String()))))),
  embeddings: Type.Optional(Nullable(Type.Array(Type.Array(Nullable(Type.Array(Type.Number())))))),
  metadatas: Type.Optional(Nullable(Type.Array(Type.Array(Nullable(HashMap))))),
  uris: Type.Optional(Nullable(Type.Array(Type.Array(Nullable(Type.String()))))),
  include: Type.Array(Include),
});

/** Body of record `delete`. */
export const DeleteRecordsPayload = Type.Object({
  ids: Type.Optional(Nullable(Type.Array(Type.String()))),
  where: Type.Optional(Where),
  where_document: Type.Optional(WhereDocument),
  limit: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
});
/** The TypeScript type of {@link DeleteRecordsPayload}. */
export type DeleteRecordsPayload = Static<typeof DeleteRecordsPayload>;

/** Response of record `delete`. */
export const DeleteRecordsResponse = Type.Object({ deleted: Type.Integer() });

/** An empty JSON object (responses of writes). */
export const EmptyObject = Type.Object({});

const Space = Type.Union([Type.Literal("l2"), Type.Literal("cosine"), Type.Literal("ip")]);

/** Chroma's collection configuration; stored as given, only `space` has an effect. */
export const CollectionConfiguration = Type.Object(
  {
    hnsw: Type.Optional(Nullable(Type.Object({ space: Type.Optional(Nullable(Space)) }, { additionalProperties: true }))),
    spann: Type.Optional(Nullable(Type.Object({ space: Type.Optional(Nullable(Space)) }, { additionalProperties: true }))),
    embedding_function: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
  },
  { additionalProperties: true },
);

/** Body of collection create. */
export const CreateCollectionPayload = Type.Object({
  name: Type.String(),
  metadata: Type.Optional(Nullable(HashMap)),
  configuration: Type.Optional(Nullable(CollectionConfiguration)),
  schema: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
  get_or_create: Type.Optional(Type.Boolean()),
});
/** The TypeScript type of {@link CreateCollectionPayload}. */
export type CreateCollectionPayload = Static<typeof CreateCollectionPayload>;

/** Body of collection modify. */
export const UpdateCollectionPayload = Type.Object({
  new_name: Type.Optional(Nullable(Type.String())),
  new_metadata: Type.Optional(Nullable(HashMap)),
  new_configuration: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
});
/** The TypeScript type of {@link UpdateCollectionPayload}. */
export type UpdateCollectionPayload = Static<typeof UpdateCollectionPayload>;

/** A collection as Chroma describes it. */
export const CollectionModel = Type.Object({
  id: Type.String({ description: "The collection's UUID." }),
  name: Type.String(),
  metadata: Nullable(HashMap),
  configuration_json: Type.Object({}, { additionalProperties: true }),
  dimension: Nullable(Type.Integer({ description: "null until the first record is written." })),
  tenant: Type.String(),
  database: Type.String(),
  log_position: Type.Integer(),
  version: Type.Integer(),
  schema: Nullable(Type.Object({}, { additionalProperties: true })),
});

/** Query string of collection list. */
export const ListCollectionsQuerystring = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
});
/** The TypeScript type of {@link ListCollectionsQuerystring}. */
export type ListCollectionsQuerystring = Static<typeof ListCollectionsQuerystring>;

/** Path of tenant-level routes. */
export const TenantParams = Type.Object({ tenant: Type.String() });
/** Path of database-level routes. */
export const DatabaseParams = Type.Object({ tenant: Type.String(), database: Type.String() });
/** The TypeScript type of {@link DatabaseParams}. */
export type DatabaseParams = Static<typeof DatabaseParams>;
/** Path of collection-level routes. */
export const CollectionParams = Type.Object({
  tenant: Type.String(),
  database: Type.String(),
  collection_id: Type.String({ description: "The collection's name on GET/DELETE of the collection itself, its UUID elsewhere." }),
});
/** The TypeScript type of {@link CollectionParams}. */
export type CollectionParams = Static<typeof CollectionParams>;

/** `GET /api/v2/heartbeat`. */
export const HeartbeatResponse = Type.Object({ "nanosecond heartbeat": Type.Number() });
/** `GET /api/v2/pre-flight-checks`. */
export const ChecklistResponse = Type.Object({
  max_batch_size: Type.Integer(),
  supports_base64_encoding: Type.Boolean(),
});
/** `GET /api/v2/auth/identity`. */
export const UserIdentity = Type.Object({
  user_id: Type.String(),
  tenant: Type.String(),
  databases: Type.Array(Type.String()),
});
/** A tenant. */
export const TenantModel = Type.Object({ name: Type.String(), resource_name: Type.Optional(Nullable(Type.String())) });
/** A database. */
export const DatabaseModel = Type.Object({ id: Type.String(), name: Type.String(), tenant: Type.String() });
/** Body creating a tenant or a database. */
export const NamePayload = Type.Object({ name: Type.String() });
/** Response of `indexing_status`. */
export const IndexingStatus = Type.Object({
  num_indexed_ops: Type.Integer(),
  num_unindexed_ops: Type.Integer(),
  op_indexing_progress: Type.Number(),
  total_ops: Type.Integer(),
});

/** Standard error responses attached to every route's OpenAPI entry. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  404: ErrorResponse,
  500: ErrorResponse,
} as const;
