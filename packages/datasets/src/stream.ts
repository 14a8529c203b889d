import type { Sequence } from './sequence.js';

// setImmediate is Node's; a browser has only timers (a macrotask either way, so I/O and rendering get their turn).
const yieldToEventLoop: () => Promise<void> =
  typeof globalThis.setImmediate === 'function' ? () => new Promise((r) => globalThis.setImmediate(r)) : () => new Promise((r) => setTimeout(r, 0));

/**
 * Streams sequences one at a time from a list of ids: `load(id)` runs only when the consumer
 * asks for the next one, so at most one loaded sequence is held here (plus whatever the caller
 * keeps), whatever the size of the dataset. Yields to the event loop between items.
 */
export async function* streamSequences<I>(ids: Iterable<I>, load: (id: I) => Sequence | Promise<Sequence>): AsyncGenerator<Sequence> {
  for (const id of ids) {
    const seq = await load(id);
    yield seq;
    await yieldToEventLoop();
  }
}
