/**
 * Collection routes. Chroma's JS client passes the collection *name* to GET and DELETE of
 * `…/collections/{collection_id}` and the *id* to PUT; each accepts either (name first).
 * `…/collections/by-id/{collection_id}` takes the id only.
 */
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { RouteContext } from "../app.js";
import type { ChromaCollection } from "../chroma-catalog.js";
import { ChromaHttpError, HttpErrorCode } from "../chroma-errors.js";
import {
  CollectionModel,
  CollectionParams,
  CreateCollectionPayload,
  DatabaseParams,
  EmptyObject,
  errorResponses,
  ErrorResponse,
  ListCollectionsQuerystring,
  UpdateCollectionPayload,
} from "../schemas.js";
import { DEFAULT_DATABASE, DEFAULT_TENANT, requireDefaultScope } from "./tenants.js";

const BASE = "/api/v2/tenants/:tenant/databases/:database";

/** Chroma's wire form of a collection. */
export function collectionModel(c: ChromaCollection) {
  return {
    id: c.id,
    name: c.name,
    metadata: c.metadata,
    configuration_json: c.configuration,
    dimension: c.dimension,
    tenant: DEFAULT_TENANT,
    database: DEFAULT_DATABASE,
    log_position: 0,
    version: 0,
    schema: c.schema,
  };
}

/** Registers list, create, count, get (by name / by id / by CRN), modify and delete. */
export function registerCollectionRoutes(app: FastifyInstance, { catalog }: RouteContext): void {
  app.get<{ Params: DatabaseParams; Querystring: ListCollectionsQuerystring }>(
    `${BASE}/collections`,
    {
      schema: {
        tags: ["Collection"],
        summary: "List collections.",
        params: DatabaseParams,
        querystring: ListCollectionsQuerystring,
        response: { 200: Type.Array(CollectionModel), ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      const offset = request.query.offset ?? 0;
      const limit = request.query.limit;
      return catalog.list().slice(offset, limit === undefined ? undefined : offset + limit).map(collectionModel);
    },
  );

  app.post<{ Params: DatabaseParams; Body: CreateCollectionPayload }>(
    `${BASE}/collections`,
    {
      schema: {
        tags: ["Collection"],
        summary: "Create a collection (or get it, with get_or_create).",
        description: "The distance space comes from configuration.hnsw.space, configuration.spann.space or metadata['hnsw:space'] (default l2). The dimension is fixed by the first write.",
        params: DatabaseParams,
        body: CreateCollectionPayload,
        response: { 200: CollectionModel, 409: ErrorResponse, ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      const body = request.body;
      const { collection } = await catalog.create({
        name: body.name,
        metadata: body.metadata ?? null,
        configuration: body.configuration ?? null,
        schema: body.schema ?? null,
        getOrCreate: body.get_or_create ?? false,
      });
      return collectionModel(collection);
    },
  );

  app.get<{ Params: DatabaseParams }>(
    `${BASE}/collections_count`,
    { schema: { tags: ["Collection"], summary: "Count collections.", params: DatabaseParams, response: { 200: Type.Integer(), ...errorResponses } } },
    async (request) => {
      requireDefaultScope(request.params);
      return catalog.list().length;
    },
  );

  app.get<{ Params: CollectionParams }>(
    `${BASE}/collections/by-id/:collection_id`,
    { schema: { tags: ["Collection"], summary: "Get a collection by id.", params: CollectionParams, response: { 200: CollectionModel, ...errorResponses } } },
    async (request) => {
      requireDefaultScope(request.params);
      return collectionModel(catalog.requireById(request.params.collection_id));
    },
  );

  app.get<{ Params: CollectionParams }>(
    `${BASE}/collections/:collection_id`,
    { schema: { tags: ["Collection"], summary: "Get a collection by name.", params: CollectionParams, response: { 200: CollectionModel, ...errorResponses } } },
    async (request) => {
      requireDefaultScope(request.params);
      return collectionModel(catalog.requireByNameOrId(request.params.collection_id));
    },
  );

  app.put<{ Params: CollectionParams; Body: UpdateCollectionPayload }>(
    `${BASE}/collections/:collection_id`,
    {
      schema: {
        tags: ["Collection"],
        summary: "Rename a collection, replace its metadata, or update its configuration.",
        params: CollectionParams,
        body: UpdateCollectionPayload,
        response: { 200: EmptyObject, 409: ErrorResponse, ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      const target = catalog.findById(request.params.collection_id) ?? catalog.requireByNameOrId(request.params.collection_id);
      await catalog.modify(target.id, {
        name: request.body.new_name ?? null,
        metadata: request.body.new_metadata ?? null,
        configuration: request.body.new_configuration ?? null,
      });
      return {};
    },
  );

  app.delete<{ Params: CollectionParams }>(
    `${BASE}/collections/:collection_id`,
    { schema: { tags: ["Collection"], summary: "Delete a collection and its records (by name).", params: CollectionParams, response: { 200: EmptyObject, ...errorResponses } } },
    async (request) => {
      requireDefaultScope(request.params);
      await catalog.delete(request.params.collection_id);
      return {};
    },
  );

  app.get<{ Params: { crn: string } }>(
    "/api/v2/collections/:crn",
    {
      schema: {
        tags: ["Collection"],
        summary: "Get a collection by Chroma resource name (tenant:database:collection).",
        params: Type.Object({ crn: Type.String() }),
        response: { 200: CollectionModel, ...errorResponses },
      },
    },
    async (request) => {
      const parts = request.params.crn.split(":");
      if (parts.length !== 3) {
        throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `invalid collection resource name ${JSON.stringify(request.params.crn)}: expected tenant:database:collection`);
      }
      const [tenant, database, name] = parts as [string, string, string];
      requireDefaultScope({ tenant, database });
      return collectionModel(catalog.requireByNameOrId(name));
    },
  );
}
