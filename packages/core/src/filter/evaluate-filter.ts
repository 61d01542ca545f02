/**
 * Evaluates a parsed filter ({@link FilterNode}) against one record's metadata, with the semantics
 * stated at the top of `filter-ast.ts`. Two forms with identical results:
 * - {@link evaluateFilter} walks the tree on every call (no set-up; right for one-off tests);
 * - {@link compileFilter} builds a closure once (paths pre-split, large `$in` lists as `Set`s) and is
 *   the form to use when one filter is tested against many records.
 *
 * Invariant: a field value of `undefined` is "missing". Metadata values are JSON (string, finite
 * number, boolean, null, arrays of those, nested objects), so `undefined` never stands for a value.
 * Keys found only on `Object.prototype` (`constructor`, `toString`, ...) are missing too.
 */
import type { CompareOp, FilterLiteral, FilterNode } from "./filter-ast.js";

type Metadata = Record<string, unknown> | null | undefined;
type Operand = FilterLiteral | null | readonly (FilterLiteral | null)[] | boolean;

const EMPTY: Record<string, unknown> = Object.freeze(Object.create(null) as Record<string, unknown>);
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Tells whether `metadata` satisfies `node`.
 *
 * `null`/`undefined` metadata behaves as `{}` (every key missing). `node` must come from
 * {@link parseFilter} or obey the same invariants; operands are not re-validated here.
 */
export function evaluateFilter(node: FilterNode, metadata: Record<string, unknown> | null | undefined): boolean {
  return evaluateNode(node, metadata ?? EMPTY);
}

function evaluateNode(node: FilterNode, metadata: Record<string, unknown>): boolean {
  switch (node.kind) {
    case "compare":
      return compareValue(node.op, node.value, resolvePath(metadata, node.path));
    case "and":
      for (const child of node.children) if (!evaluateNode(child, metadata)) return false;
      return true;
    case "or":
      for (const child of node.children) if (evaluateNode(child, metadata)) return true;
      return false;
    case "not":
      return !evaluateNode(node.child, metadata);
    case "all":
      return true;
  }
}

/** The value at `path`, or `undefined` when missing: whole path as an own key first, then dotted descent. */
function resolvePath(metadata: Record<string, unknown>, path: string): unknown {
  if (hasOwn.call(metadata, path)) {
    const exact = metadata[path];
    if (exact !== undefined) return exact;
  }
  let dot = path.indexOf(".");
  if (dot < 0) return undefined;
  let current: unknown = metadata;
  let start = 0;
  for (;;) {
    const key = dot < 0 ? path.slice(start) : path.slice(start, dot);
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    if (!hasOwn.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
    if (dot < 0) return current;
    start = dot + 1;
    dot = path.indexOf(".", start);
  }
}

function compareValue(op: CompareOp, operand: Operand, value: unknown): boolean {
  if (value === undefined) return op === "ne" || op === "nin" || op === "not_contains" || (op === "exists" && operand === false);
  switch (op) {
    case "eq":
      return equalsAny(value, operand as FilterLiteral | null);
    case "ne":
      return !equalsAny(value, operand as FilterLiteral | null);
    case "in":
      return inList(value, operand as readonly (FilterLiteral | null)[]);
    case "nin":
      return !inList(value, operand as readonly (FilterLiteral | null)[]);
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      if (!Array.isArray(value)) return orders(op, value, operand as number | string);
      for (const item of value) if (orders(op, item, operand as number | string)) return true;
      return false;
    case "exists":
      return operand === true;
    case "contains":
      return contains(value, operand as FilterLiteral);
    case "not_contains":
      return !contains(value, operand as FilterLiteral);
  }
}

function equalsAny(value: unknown, operand: FilterLiteral | null): boolean {
  return value === operand || (Array.isArray(value) && value.includes(operand));
}

function inList(value: unknown, list: readonly (FilterLiteral | null)[]): boolean {
  if (!Array.isArray(value)) return list.includes(value as FilterLiteral | null);
  for (const item of value) if (list.includes(item as FilterLiteral | null)) return true;
  return false;
}

function contains(value: unknown, operand: FilterLiteral): boolean {
  if (Array.isArray(value)) return value.includes(operand);
  return typeof value === "string" && typeof operand === "string" && value.includes(operand);
}

function orders(op: CompareOp, value: unknown, operand: number | string): boolean {
  if (typeof value !== typeof operand) return false;
  const v = value as number | string;
  switch (op) {
    case "gt":
      return v > operand;
    case "gte":
      return v >= operand;
    case "lt":
      return v < operand;
    default:
      return v <= operand;
  }
}

// ---------------------------------------------------------------------------------------------------
// Compiled form

/** A compiled filter: tells whether one record's metadata matches. */
export type MetadataPredicate = (metadata: Record<string, unknown> | null | undefined) => boolean;

type Test = (metadata: Record<string, unknown>) => boolean;
type Getter = (metadata: Record<string, unknown>) => unknown;

/** `$in` lists longer than this are looked up through a `Set`. */
const SET_THRESHOLD = 8;

/**
 * Compiles `node` into a predicate with the same results as {@link evaluateFilter}, faster when one
 * filter is tested against many records (paths are split once, operators specialised, long `$in`
 * lists turned into `Set`s). Compiling costs about as much as a few evaluations.
 *
 * The predicate treats `null`/`undefined` metadata as `{}`. It keeps its own copies of operands,
 * so it does not change when `node` is mutated later.
 */
export function compileFilter(node: FilterNode): MetadataPredicate {
  if (node.kind === "all") return () => true;
  const test = compileNode(node);
  return (metadata) => test(metadata ?? EMPTY);
}

function compileNode(node: FilterNode): Test {
  switch (node.kind) {
    case "all":
      return () => true;
    case "not": {
      const child = compileNode(node.child);
      return (m) => !child(m);
    }
    case "and":
    case "or": {
      const tests = node.children.map(compileNode);
      const isAnd = node.kind === "and";
      if (tests.length === 2) {
        const a = tests[0]!;
        const b = tests[1]!;
        return isAnd ? (m) => a(m) && b(m) : (m) => a(m) || b(m);
      }
      if (tests.length === 3) {
        const a = tests[0]!;
        const b = tests[1]!;
        const c = tests[2]!;
        return isAnd ? (m) => a(m) && b(m) && c(m) : (m) => a(m) || b(m) || c(m);
      }
      if (isAnd) {
        return (m) => {
          for (let i = 0; i < tests.length; i++) if (!tests[i]!(m)) return false;
          return true;
        };
      }
      return (m) => {
        for (let i = 0; i < tests.length; i++) if (tests[i]!(m)) return true;
        return false;
      };
    }
    case "compare":
      return compileCompare(node.op, node.value, compileGetter(node.path));
  }
}

function compileGetter(path: string): Getter {
  // Only keys that exist on Object.prototype need the own-property check on the fast path.
  const guarded = (key: string) => key in Object.prototype;
  if (!path.includes(".")) {
    if (!guarded(path)) return (m) => m[path];
    return (m) => (hasOwn.call(m, path) ? m[path] : undefined);
  }
  const segments = path.split(".");
  const anyGuarded = guarded(path) || segments.some(guarded);
  const descend = (m: Record<string, unknown>): unknown => {
    let current: unknown = m;
    for (let i = 0; i < segments.length; i++) {
      if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
      const key = segments[i]!;
      if (anyGuarded && !hasOwn.call(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
    return current;
  };
  if (anyGuarded) return (m) => (hasOwn.call(m, path) && m[path] !== undefined ? m[path] : descend(m));
  return (m) => {
    const exact = m[path];
    return exact !== undefined ? exact : descend(m);
  };
}

function compileCompare(op: CompareOp, operand: Operand, get: Getter): Test {
  switch (op) {
    case "eq":
    case "ne": {
      const want = operand as FilterLiteral | null;
      const eq = (v: unknown): boolean => v === want || (Array.isArray(v) && v.includes(want));
      if (op === "eq") return (m) => eq(get(m));
      return (m) => {
        const v = get(m);
        return v === undefined || !eq(v);
      };
    }
    case "in":
    case "nin": {
      const has = compileMembership(operand as readonly (FilterLiteral | null)[]);
      const matches = (v: unknown): boolean => {
        if (!Array.isArray(v)) return has(v);
        for (let i = 0; i < v.length; i++) if (has(v[i])) return true;
        return false;
      };
      if (op === "in") return (m) => matches(get(m));
      return (m) => {
        const v = get(m);
        return v === undefined || !matches(v);
      };
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const bound = operand as number | string;
      const type = typeof bound;
      const order = compileOrder(op, bound);
      return (m) => {
        const v = get(m);
        if (typeof v === type) return order(v as number | string);
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) {
          const item: unknown = v[i];
          if (typeof item === type && order(item as number | string)) return true;
        }
        return false;
      };
    }
    case "exists":
      return operand === true ? (m) => get(m) !== undefined : (m) => get(m) === undefined;
    case "contains":
    case "not_contains": {
      const want = operand as FilterLiteral;
      const isString = typeof want === "string";
      const has = (v: unknown): boolean =>
        Array.isArray(v) ? v.includes(want) : isString && typeof v === "string" && v.includes(want as string);
      if (op === "contains") return (m) => has(get(m));
      return (m) => {
        const v = get(m);
        return v === undefined || !has(v);
      };
    }
  }
}

function compileOrder(op: CompareOp, bound: number | string): (v: number | string) => boolean {
  switch (op) {
    case "gt":
      return (v) => v > bound;
    case "gte":
      return (v) => v >= bound;
    case "lt":
      return (v) => v < bound;
    default:
      return (v) => v <= bound;
  }
}

function compileMembership(list: readonly (FilterLiteral | null)[]): (v: unknown) => boolean {
  if (list.length > SET_THRESHOLD) {
    const set = new Set<unknown>(list);
    return (v) => set.has(v);
  }
  const copy = list.slice();
  if (copy.length === 1) {
    const only = copy[0];
    return (v) => v === only;
  }
  return (v) => copy.includes(v as FilterLiteral | null);
}
