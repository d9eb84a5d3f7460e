/**
 * The one codec every runtime uses for messages that leave their node (principle 4).
 *
 * MessagePack through msgpackr with its record extension: object shapes are sent once as a
 * structure and then referenced by id, which measured as fast as structured clone once batched
 * (see docs/codec.md). Encoding happens at the `tell`, so an unencodable or oversized message
 * fails synchronously in the sender, in every runtime.
 */
import { Packr } from 'msgpackr';
import { MessageTooLargeError, UnencodableMessageError } from './errors.ts';

/** Codec limits. */
export interface CodecOptions {
  /**
   * Largest encoded message accepted, in bytes. Default 1 MiB: Riak's guidance for the largest
   * object worth storing, far above any protocol message.
   */
  maxMessageBytes: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

function rejectFunction(): never {
  throw new UnencodableMessageError('a function is not data');
}

/**
 * Encodes and decodes messages. One instance per sending/receiving pair that shares a structure
 * table: in one thread (simulation, local) the cluster shares one; across threads each link has
 * its own, carried in order by the link's batches.
 */
export class Codec {
  readonly maxMessageBytes: number;
  private readonly packr: Packr;

  constructor(options: Partial<CodecOptions> = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.packr = new Packr({
      structures: [],
      useRecords: true,
      maxSharedStructures: 256,
      moreTypes: true,
      writeFunction: rejectFunction,
    } as ConstructorParameters<typeof Packr>[0]);
  }

  /**
   * Encodes `msg`. Throws {@link UnencodableMessageError} for values that are not data (functions,
   * symbols, cycles) and {@link MessageTooLargeError} past `maxMessageBytes`.
   */
  encode(msg: unknown): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.packr.pack(msg);
    } catch (err) {
      if (err instanceof UnencodableMessageError) throw err;
      const detail =
        err instanceof RangeError ? 'it contains a cycle or is nested too deeply' : String((err as Error)?.message ?? err);
      throw new UnencodableMessageError(detail, err);
    }
    if (bytes.length > this.maxMessageBytes) throw new MessageTooLargeError(bytes.length, this.maxMessageBytes);
    return bytes;
  }

  /** Decodes bytes produced by {@link encode} on a codec sharing this structure table. */
  decode(bytes: Uint8Array): unknown {
    return this.packr.unpack(bytes);
  }
}
