/** Record routes of a collection, addressed by the collection's id (`chroma-records.ts` holds the semantics). */
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { RouteContext } from "../app.js";
import {
  AddRecordsPayload,
  CollectionParams,
  DeleteRecordsPayload,
  DeleteRecordsResponse,
  EmptyObject,
  errorResponses,
  GetRequestPayload,
  GetResponse,
  IndexingStatus,
  QueryQuerystring,
  QueryRequestPayload,
  QueryResponse,
  UpdateRecordsPayload,
} from "../schemas.js";
import { requireDefaultScope } from "./tenants.js";

const BASE = "/api/v2/tenants/:tenant/databases/:database/collections/:collection_id";

/** Registers add, upsert, update, get, query, delete, count and indexing_status. */
export function registerRecordRoutes(app: FastifyInstance, { records }: RouteContext): void {
  app.post<{ Params: CollectionParams; Body: AddRecordsPayload }>(
    `${BASE}/add`,
    {
      schema: {
        tags: ["Record"],
        summary: "Add records; ids that already exist are skipped.",
        params: CollectionParams,
        body: AddRecordsPayload,
        response: { 201: EmptyObject, ...errorResponses },
      },
    },
    async (request, reply) => {
      requireDefaultScope(request.params);
      await records.add(request.params.collection_id, request.body);
      return reply.status(201).send({});
    },
  );

  app.post<{ Params: CollectionParams; Body: AddRecordsPayload }>(
    `${BASE}/upsert`,
    {
      schema: {
        tags: ["Record"],
        summary: "Add new records and update existing ones (metadata merged).",
        params: CollectionParams,
        body: AddRecordsPayload,
        response: { 200: EmptyObject, ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      await records.upsert(request.params.collection_id, request.body);
      return {};
    },
  );

  app.post<{ Params: CollectionParams; Body: UpdateRecordsPayload }>(
    `${BASE}/update`,
    {
      schema: {
        tags: ["Record"],
        summary: "Update given fields of existing records; unknown ids are skipped.",
        params: CollectionParams,
        body: UpdateRecordsPayload,
        response: { 200: EmptyObject, ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      await records.update(request.params.collection_id, request.body);
      return {};
    },
  );

  app.post<{ Params: CollectionParams; Body: GetRequestPayload }>(
    `${BASE}/get`,
    {
      schema: {
        tags: ["Record"],
        summary: "Get records by ids and/or filters.",
        params: CollectionParams,
        body: GetRequestPayload,
        response: { 200: GetResponse, ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      return records.get(request.params.collection_id, request.body);
    },
  );

  app.post<{ Params: CollectionParams; Body: QueryRequestPayload; Querystring: QueryQuerystring }>(
    `${BASE}/query`,
    {
      schema: {
        tags: ["Record"],
        summary: "Nearest neighbours of each query embedding (distances lower-is-better).",
        params: CollectionParams,
        querystring: QueryQuerystring,
        body: QueryRequestPayload,
        response: { 200: QueryResponse, ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      return records.query(request.params.collection_id, request.body, request.query);
    },
  );

  app.post<{ Params: CollectionParams; Body: DeleteRecordsPayload }>(
    `${BASE}/delete`,
    {
      schema: {
        tags: ["Record"],
        summary: "Delete records by ids and/or filters.",
        params: CollectionParams,
        body: DeleteRecordsPayload,
        response: { 200: DeleteRecordsResponse, ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      return { deleted: await records.delete(request.params.collection_id, request.body) };
    },
  );

  app.get<{ Params: CollectionParams }>(
    `${BASE}/count`,
    {
      schema: {
        tags: ["Record"],
        summary: "Number of records.",
        params: CollectionParams,
        querystring: Type.Object({ read_level: Type.Optional(Type.String()) }),
        response: { 200: Type.Integer(), ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      return records.count(request.params.collection_id);
    },
  );

  app.get<{ Params: CollectionParams }>(
    `${BASE}/indexing_status`,
    {
      schema: {
        tags: ["Record"],
        summary: "Indexing progress: writes are indexed before they are acknowledged, so always complete.",
        params: CollectionParams,
        response: { 200: IndexingStatus, ...errorResponses },
      },
    },
    async (request) => {
      requireDefaultScope(request.params);
      const n = await records.count(request.params.collection_id);
      return { num_indexed_ops: n, num_unindexed_ops: 0, op_indexing_progress: 1, total_ops: n };
    },
  );
}
