// Types of the wasi:keyvalue imports as componentize-js presents them to JavaScript: results become return
// values or exceptions, u64 becomes bigint, the bucket resource becomes a class.

declare module "wasi:keyvalue/store@0.2.0-draft" {
  export class Bucket {
    get(key: string): Uint8Array | undefined;
    set(key: string, value: Uint8Array): void;
    delete(key: string): void;
    exists(key: string): boolean;
  }
  export function open(identifier: string): Bucket;
}

declare module "wasi:keyvalue/atomics@0.2.0-draft" {
  import type { Bucket } from "wasi:keyvalue/store@0.2.0-draft";
  export function increment(bucket: Bucket, key: string, delta: bigint): bigint;
}
