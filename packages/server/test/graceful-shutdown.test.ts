/** close() drains: a request in flight when shutdown starts still completes, then the database closes. */
import http from "node:http";
import { ClosedError } from "@omendb/core";
import { describe, expect, it } from "vitest";
import { DB_BASE, call, startTestServer } from "./helpers.js";

describe("OmenDBServer.close", () => {
  it("finishes requests in flight, refuses new connections, then closes the database", async () => {
    const server = await startTestServer();
    const created = await call(`${server.url}${DB_BASE}/collections`, { body: { name: "drain" } });
    const body = JSON.stringify({ ids: ["a", "b"], embeddings: [[1, 0], [0, 1]] });
    const { hostname, port } = new URL(server.url);

    // Send the headers and half the body: the request is in flight (onRequest ran) but cannot finish.
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        { hostname, port, method: "POST", path: `${DB_BASE}/collections/${created.body.id}/add`, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 10));
      const waitInFlight = () => {
        if (server.metrics.inFlight === 1) {
          closing = server.close();
          setImmediate(() => req.end(body.slice(10)));
        } else setTimeout(waitInFlight, 5);
      };
      let closing: Promise<void> | undefined;
      waitInFlight();
    });

    const res = await response;
    expect(res.status).toBe(201);
    await server.close();
    expect(() => server.db.listCollections()).toThrow(ClosedError);
    await expect(fetch(`${server.url}/api/v2/heartbeat`)).rejects.toThrow();
  });
});
