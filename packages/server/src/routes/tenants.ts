/**
 * The one tenant and database this server has: `default_tenant` / `default_database`. Every
 * tenant- or database-scoped route checks its path against them ({@link requireDefaultScope}).
 */
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { RouteContext } from "../app.js";
import { ChromaHttpError, HttpErrorCode } from "../chroma-errors.js";
import { DatabaseModel, DatabaseParams, errorResponses, TenantModel, TenantParams } from "../schemas.js";

/** Chroma's default tenant. */
export const DEFAULT_TENANT = "default_tenant";
/** Chroma's default database. */
export const DEFAULT_DATABASE = "default_database";
/** A fixed id for the default database (Chroma returns a UUID). */
export const DEFAULT_DATABASE_ID = "00000000-0000-0000-0000-000000000000";

/**
 * Checks that a route targets the default tenant (and database, when given).
 * @throws ChromaHttpError NOT_FOUND otherwise.
 */
export function requireDefaultScope(params: { tenant: string; database?: string }): void {
  if (params.tenant !== DEFAULT_TENANT) {
    throw new ChromaHttpError(HttpErrorCode.NOT_FOUND, `Tenant [${params.tenant}] not found (this server has only ${DEFAULT_TENANT})`);
  }
  if (params.database !== undefined && params.database !== DEFAULT_DATABASE) {
    throw new ChromaHttpError(HttpErrorCode.NOT_FOUND, `Database [${params.database}] not found (this server has only ${DEFAULT_DATABASE})`);
  }
}

const databaseModel = { id: DEFAULT_DATABASE_ID, name: DEFAULT_DATABASE, tenant: DEFAULT_TENANT };

/** Registers GET tenant, list databases and GET database. */
export function registerTenantRoutes(app: FastifyInstance, _context: RouteContext): void {
  app.get<{ Params: { tenant_name: string } }>(
    "/api/v2/tenants/:tenant_name",
    { schema: { tags: ["Tenant"], summary: "Get a tenant.", params: Type.Object({ tenant_name: Type.String() }), response: { 200: TenantModel, ...errorResponses } } },
    async (request) => {
      requireDefaultScope({ tenant: request.params.tenant_name });
      return { name: DEFAULT_TENANT, resource_name: null };
    },
  );
  app.get<{ Params: { tenant: string } }>(
    "/api/v2/tenants/:tenant/databases",
    { schema: { tags: ["Tenant"], summary: "List a tenant's databases.", params: TenantParams, response: { 200: Type.Array(DatabaseModel), ...errorResponses } } },
    async (request) => {
      requireDefaultScope({ tenant: request.params.tenant });
      return [databaseModel];
    },
  );
  app.get<{ Params: DatabaseParams }>(
    "/api/v2/tenants/:tenant/databases/:database",
    { schema: { tags: ["Tenant"], summary: "Get a database.", params: DatabaseParams, response: { 200: DatabaseModel, ...errorResponses } } },
    async (request) => {
      requireDefaultScope(request.params);
      return databaseModel;
    },
  );
}
