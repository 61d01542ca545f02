/**
 * Where a database folder keeps each collection's files (see `database.ts` for the whole layout).
 */
import path from "node:path";

/** The folder of the vector and index files. */
export function vectorsDir(root: string): string {
  return path.join(root, "vectors");
}

/** The vector file of the collection with this uuid. */
export function vectorPath(root: string, uuid: string): string {
  return path.join(root, "vectors", `${uuid}.vec`);
}

/** The DiskANN index file of the collection with this uuid. */
export function indexPath(root: string, uuid: string): string {
  return path.join(root, "vectors", `${uuid}.ann`);
}
