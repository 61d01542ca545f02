// The slice of the WebAssembly JS API the bench uses. lib ES2023 and @types/node 20 do not declare
// the WebAssembly global, which Node 20 provides.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
