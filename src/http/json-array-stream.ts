import { Readable } from 'node:stream';

const ROWS_PER_CHUNK = 256;

/** Streams an async iterable as one JSON array, a chunk of rows at a time, without holding it all. */
export function jsonArrayStream(items: AsyncIterable<unknown>): Readable {
  async function* generate() {
    yield '[';
    let first = true;
    let chunk: string[] = [];
    for await (const item of items) {
      chunk.push((first ? '' : ',') + JSON.stringify(item));
      first = false;
      if (chunk.length >= ROWS_PER_CHUNK) {
        yield chunk.join('');
        chunk = [];
      }
    }
    yield chunk.join('') + ']';
  }
  return Readable.from(generate(), { objectMode: false });
}
