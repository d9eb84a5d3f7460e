// comlink ships its Node adapter as an .mjs file with a .d.ts beside it, which TypeScript does not
// pair with the .mjs path: declare the module here.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly unknown[]): void;
    on(type: string, listener: (...args: unknown[]) => void, options?: object): void;
    off(type: string, listener: (...args: unknown[]) => void, options?: object): void;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
