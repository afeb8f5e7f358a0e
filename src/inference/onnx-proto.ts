/**
 * Reads the few facts ONNX Runtime's JS API does not expose from an ONNX ModelProto:
 * `metadata_props` and the operator that produces each graph output. A minimal protobuf
 * walk: it skips the large tensors (initializers) without decoding them.
 */

export interface OnnxModelFacts {
  metadata: Record<string, string>;
  /** Graph output name → op_type of the node that produces it. */
  outputProducers: Record<string, string>;
  producer: string;
}

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }
  done(): boolean {
    return this.pos >= this.end;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new RangeError('varint too long');
    }
  }
  /** Returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t & 7];
  }
  bytes(): Reader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new RangeError('truncated field');
    this.pos += len;
    return new Reader(this.buf, start, start + len);
  }
  string(): string {
    const r = this.bytes();
    return Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, r.end - r.pos).toString('utf8');
  }
  skip(wireType: number): void {
    switch (wireType) {
      case 0: this.varint(); return;
      case 1: this.pos += 8; return;
      case 2: this.bytes(); return;
      case 5: this.pos += 4; return;
      default: throw new RangeError(`unsupported wire type ${wireType}`);
    }
  }
}

function readStringPair(r: Reader): [string, string] {
  let key = '';
  let value = '';
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) key = r.string();
    else if (field === 2 && wire === 2) value = r.string();
    else r.skip(wire);
  }
  return [key, value];
}

function readNode(r: Reader): { outputs: string[]; opType: string } {
  const outputs: string[] = [];
  let opType = '';
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 2 && wire === 2) outputs.push(r.string());
    else if (field === 4 && wire === 2) opType = r.string();
    else r.skip(wire);
  }
  return { outputs, opType };
}

function readName(r: Reader): string {
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) return r.string();
    r.skip(wire);
  }
  return '';
}

function readGraph(r: Reader): Record<string, string> {
  const producers = new Map<string, string>();
  const outputNames: string[] = [];
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) {
      const node = readNode(r.bytes());
      for (const o of node.outputs) producers.set(o, node.opType);
    } else if (field === 12 && wire === 2) outputNames.push(readName(r.bytes()));
    else r.skip(wire);
  }
  return Object.fromEntries(outputNames.map((n) => [n, producers.get(n) ?? '']));
}

/** Throws RangeError when the bytes are not a well-formed ModelProto. */
export function readOnnxFacts(model: Uint8Array): OnnxModelFacts {
  const r = new Reader(model);
  const metadata: Record<string, string> = {};
  let outputProducers: Record<string, string> = {};
  let producer = '';
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 14 && wire === 2) {
      const [k, v] = readStringPair(r.bytes());
      metadata[k] = v;
    } else if (field === 7 && wire === 2) outputProducers = readGraph(r.bytes());
    else if (field === 2 && wire === 2) producer = r.string();
    else r.skip(wire);
  }
  return { metadata, outputProducers, producer };
}
