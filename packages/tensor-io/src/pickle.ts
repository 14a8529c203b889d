/**
 * A minimal reader of the Python pickle opcodes `torch.save(state_dict)` emits (protocols 2-5),
 * with no Python and no code execution: GLOBAL/STACK_GLOBAL become `PickleGlobal` markers,
 * REDUCE on a known global is interpreted (`collections.OrderedDict`, torch's tensor rebuild
 * functions), any other REDUCE becomes a `PickleCall` record, and BINPERSID resolves a storage
 * through the caller's `persistentLoad`.
 */

export class PickleGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A call the reader did not interpret (kept as data, never executed). */
export class PickleCall {
  state: unknown;
  constructor(readonly fn: PickleGlobal, readonly args: unknown[]) {}
}

/** What REDUCE does with a known global; return undefined to fall back to a `PickleCall`. */
export type ReduceHook = (fn: PickleGlobal, args: unknown[]) => unknown;

export interface UnpickleOptions {
  persistentLoad: (pid: unknown) => unknown;
  reduce?: ReduceHook;
  /** For error messages. */
  file?: string;
}

export class PickleError extends Error {
  constructor(readonly file: string, readonly offset: number, message: string) {
    super(`${file} @byte ${offset}: ${message}`);
    this.name = 'PickleError';
  }
}

const MARK = Symbol('mark');

/**
 * Runs the pickle machine over `bytes` and returns the unpickled top object. Dicts become `Map`s.
 *
 * @example
 * const sd = unpickle(bytes, { persistentLoad: (pid) => storages.get(pid) });
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const file = options.file ?? '<pickle>';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opStart = 0;
  const fail = (msg: string): never => {
    throw new PickleError(file, opStart, msg);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) fail(`truncated pickle: ${n} more bytes expected`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = Number(view.getBigUint64(pos, true));
    pos += 8;
    return v;
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const s = bytes.subarray(pos, pos + n);
    pos += n;
    return s;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('a newline-terminated argument');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('a value on the stack');
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    let i = stack.length - 1;
    while (i >= 0 && stack[i] !== MARK) i--;
    if (i < 0) fail('a MARK on the stack');
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('a value on the stack');
    return stack[stack.length - 1];
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (target instanceof Map) {
      for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
    } else if (target instanceof PickleCall) {
      // an uninterpreted dict-like object: keep its items as state
      const m = target.state instanceof Map ? target.state : new Map();
      for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
      target.state = m;
    } else {
      fail('a dict under SETITEM(S)');
    }
  };
  const longFromBytes = (b: Uint8Array): number => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b.length > 0 && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number(v);
  };

  for (;;) {
    opStart = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(longFromBytes(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longFromBytes(take(u32())));
        break;
      case 0x47: {
        // BINFLOAT: big-endian double
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text.decode(take(u64())));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`memo entry ${key}`);
        stack.push(memo.get(key));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(new PickleGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name strings for STACK_GLOBAL');
        stack.push(new PickleGlobal(module as string, name as string));
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        (top() as unknown[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        (top() as unknown[]).push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(options.persistentLoad(pop()));
        break;
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PickleGlobal) || !Array.isArray(args)) fail('a global and an argument tuple for REDUCE');
        const g = fn as PickleGlobal;
        const hooked = options.reduce?.(g, args as unknown[]);
        if (hooked !== undefined) stack.push(hooked);
        else if (g.qualified === 'collections.OrderedDict' || g.qualified === 'builtins.dict') stack.push(new Map());
        else stack.push(new PickleCall(g, args as unknown[]));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PickleGlobal)) fail('a class for NEWOBJ');
        stack.push(new PickleCall(cls as PickleGlobal, (args as unknown[]) ?? []));
        break;
      }
      case 0x62: {
        // BUILD: state of the object below; a Map (OrderedDict with _metadata) keeps its items
        const state = pop();
        const obj = top();
        if (obj instanceof PickleCall) obj.state = state;
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`a pickle opcode torch.save emits, found 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))})`);
    }
  }
}
