// A worker process of `trainInWorkers`: loads the run's data (from the dataset cache) and the
// backend once, then trains the cells the parent sends, one at a time, and reports each result.
// A stop request (from the parent, or SIGINT/SIGTERM sent to the whole process group by a
// terminal) stops the cell at the next step boundary with a checkpoint; a lost parent ends it.
import { selectBackend } from '@r3d-ts/backend';
import { TrainingStoppedError } from '@r3d-ts/trainer';
import type { FromWorker, ToWorker } from './cell-workers.js';
import type { AblationConfig } from './config.js';
import { type AblationData, loadAblationData } from './data.js';
import { runCell } from './run-cell.js';

const send = (message: FromWorker) => {
  if (process.connected) process.send!(message);
};
let config: AblationConfig | undefined;
let backend = '';
let data: AblationData | undefined;
const controller = new AbortController();
const pending: Array<Extract<ToWorker, { type: 'cell' }>> = [];
let busy = false;

const stop = (reason: string) => {
  if (!controller.signal.aborted) controller.abort(reason);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));
// the parent is gone (killed): nothing would read a result, and the cell's last checkpoint is on disk
process.on('disconnect', () => process.exit(0));

async function work(): Promise<void> {
  if (busy || !config || !data) return;
  busy = true;
  try {
    for (let job = pending.shift(); job; job = pending.shift()) {
      const { cell, runDir } = job;
      try {
        const result = await runCell(cell, config, data, {
          runDir,
          backend,
          signal: controller.signal,
          onStep: (e, total) => send({ type: 'step', id: cell.id, event: { globalStep: e.globalStep, epoch: e.epoch, loss: e.loss }, total }),
        });
        send({ type: 'done', id: cell.id, result });
      } catch (err) {
        if (err instanceof TrainingStoppedError) send({ type: 'stopped', id: cell.id, reason: err.reason, exitCode: err.exitCode, message: err.message.replace(/^stopped by \S+ /, '') });
        else send({ type: 'error', id: cell.id, message: (err as Error).message ?? String(err) });
      }
    }
  } finally {
    busy = false;
  }
}

process.on('message', (raw) => {
  const message = raw as ToWorker;
  if (message.type === 'stop') stop(message.reason);
  else if (message.type === 'cell') {
    pending.push(message);
    void work();
  } else if (message.type === 'init') {
    config = message.config;
    void (async () => {
      try {
        backend = (await selectBackend({ backend: message.backend })).name;
        data = await loadAblationData(config!);
        send({ type: 'ready' });
      } catch (err) {
        send({ type: 'error', id: null, message: (err as Error).message ?? String(err) });
        process.disconnect?.();
      }
    })();
  }
});
