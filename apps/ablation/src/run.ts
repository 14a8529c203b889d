import { defaultCandidates, describeBackend, selectBackend } from '@r3d-ts/backend';
import { lockFolder } from '@r3d-ts/tensor-io/node';
import { progressAllowed, signalExitCode, TrainingStoppedError } from '@r3d-ts/trainer';
import cliProgress from 'cli-progress';
import { removeCellCheckpoints } from './cell-board.js';
import type { AblationConfig } from './config.js';
import { shardOf } from './config.js';
import { analyseDemo, readDemoTokens, type DemoResult } from './darai-demo.js';
import { describeData, loadAblationData, tooShort } from './data.js';
import { shardCells } from './grid.js';
import { dataBaselines } from './analysis/baselines.js';
import { gridReport, type GridReport } from './analysis/grid-report.js';
import { writeDemoReport, writeGridReport } from './report/write.js';
import { FOLDER_LOCK_WAIT_MS, type GridFile, openForWriting, readCell, readCells, readGridFile, writeCell } from './store/result-folder.js';
import { cellRunDir, runCell, type CellResult } from './run-cell.js';
import { idleCores, trainInWorkers, workerCount } from './cell-workers.js';

/**
 * With no `--backend` and no R3D_BACKEND: native-blas where its addon loads, else wasm (the
 * default grid of 35 cells must train within a minute on 2 cores; see README). `--backend auto`
 * is @r3d-ts/backend's full order, tfjs-node first.
 */
export const DEFAULT_BACKEND = 'native-blas, else wasm';
const DEFAULT_CANDIDATES = defaultCandidates.filter((c) => c.name === 'native-blas' || c.name === 'wasm');

export interface RunOptions {
  /** Where progress, logs and warnings go (default process.stderr). */
  log?: NodeJS.WritableStream;
  /** Where the result line (the report's path) goes (default process.stdout; null: nowhere). */
  results?: NodeJS.WritableStream | null;
  /** Stop after this many newly trained cells (tests use it to simulate a killed run). */
  maxNewCells?: number;
  /** Remove the results the output folder holds (cells, cell checkpoints, report) and start over. */
  overwrite?: boolean;
  /**
   * Stop at the next training step (or before the next cell) once aborted: the cell in progress
   * keeps a checkpoint that a rerun resumes, and `runAblation` throws `TrainingStoppedError`.
   */
  signal?: AbortSignal;
}

export interface RunSummary {
  kind: 'grid' | 'darai-demo';
  out: string;
  ran: string[];
  skipped: string[];
  report?: GridReport;
  demo?: DemoResult;
  backend: string;
}

/**
 * Runs the ablation the configuration describes and writes its report: for `darai-demo` the
 * rank analysis of the authors' tokens; otherwise every cell of this shard of the grid that has
 * no `cells/<id>.json` yet (train, MoC, effective ranks), each written atomically as it finishes,
 * then the report over every finished cell in the folder. The run registers as the folder's
 * writer for its shard (`openForWriting`: a run whose cells may overlap, or with other settings,
 * is refused naming this one's pid and host; other shards write side by side), and its settings
 * are committed to `grid.json` before any cell starts.
 *
 * @example
 * await runAblation(parseAblationConfig({ seeds: [1], epochs: 2 }));
 */
export async function runAblation(config: AblationConfig, options: RunOptions = {}): Promise<RunSummary> {
  const results = options.results === undefined ? process.stdout : options.results;
  if (config.dataset === 'darai-demo') {
    const tokens = readDemoTokens(config.data!);
    const demo = analyseDemo(tokens, config.sequences);
    const lock = lockFolder(config.out, { waitMs: FOLDER_LOCK_WAIT_MS });
    try {
      await writeDemoReport(config.out, demo);
    } finally {
      lock.release();
    }
    results?.write(`darai-demo: ${demo.ranks.length} observation ratios, ${demo.sequences.length} sequences; report: ${config.out}/index.html\n`);
    return { kind: 'darai-demo', out: config.out, ran: [], skipped: [], demo, backend: 'none' };
  }

  const writer = openForWriting(config, { overwrite: options.overwrite ?? false });
  try {
    return await runGrid(config, options, writer.grid);
  } finally {
    writer.release();
  }
}

async function runGrid(config: AblationConfig, options: RunOptions, grid: GridFile): Promise<RunSummary> {
  const log = options.log ?? process.stderr;
  const results = options.results === undefined ? process.stdout : options.results;
  const mine = shardCells(grid.cells.filter((c) => config.partners.includes(c.partner)), config.shard ? shardOf(config.shard) : undefined);
  const todo = mine.filter((c) => !readCell(config.out, c.id, grid));
  const skipped = mine.filter((c) => !todo.includes(c)).map((c) => c.id);
  // the data is read and checked before anything is logged: a bad file is then the only line a user sees
  const loadStart = performance.now();
  const data = todo.length > 0 ? await loadAblationData(config, (message) => log.write(`warning: ${message}\n`)) : undefined;
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const named = config.backend ?? process.env.R3D_BACKEND;
  const backend = await selectBackend(named ? { backend: named } : { backend: 'auto', candidates: DEFAULT_CANDIDATES });
  log.write(`backend: ${describeBackend(backend)}\n`);
  log.write(`grid: ${mine.length} cells${config.shard ? ` (shard ${config.shard} of ${grid.cells.length})` : ''}, ${skipped.length} already done, ${todo.length} to run\n`);

  const ran: string[] = [];
  if (data) {
    log.write(`data: ${data.description}: ${data.train.length} train / ${data.test.length} test videos (${loadSeconds.toFixed(1)} s)\n`);
    for (const [split, seqs, ratios] of [['training', data.train, config.trainObservationRatios], ['test', data.test, [...config.evalObservationRatios, ...config.rankObservationRatios]]] as const) {
      const short = tooShort(seqs, ratios);
      if (short.length > 0) log.write(`warning: ${short.length} of ${seqs.length} ${split} videos are too short for observation ratio ${short[0]!.ratio} and are left out where they give no sample: ${short.slice(0, 5).map((s) => `${s.id} (${s.frames} frames)`).join(', ')}${short.length > 5 ? ', ...' : ''}\n`);
    }
    // scored once per run with the cells' own MoC; every cell carries them, so shards and merges keep them
    const baselines = dataBaselines(config, data);
    const bars = progressAllowed({ flag: config.progress, stream: log as NodeJS.WriteStream })
      ? new cliProgress.MultiBar({ stream: log as NodeJS.WriteStream, clearOnComplete: false, hideCursor: true, format: ' {label} [{bar}] {value}/{total} {extra}', forceRedraw: true }, cliProgress.Presets.shades_classic)
      : null;
    const gridBar = bars?.create(mine.length, skipped.length, { label: 'grid    ', extra: '' });
    const started = performance.now();
    const finished = (result: CellResult) => {
      writeCell(config.out, { ...result, baselines });
      // the checkpoints only serve a resume of this cell, which is finished now; its TensorBoard files stay
      removeCellCheckpoints(cellRunDir(config.out, result.cell));
      ran.push(result.cell.id);
      gridBar?.increment(1, { extra: `${result.cell.id} ${result.seconds.toFixed(1)} s` });
      if (!bars) log.write(`cell ${result.cell.id}: MoC ${(100 * result.meanMoc).toFixed(1)}%, ${result.seconds.toFixed(1)} s\n`);
    };
    const batch = options.maxNewCells != null ? todo.slice(0, options.maxNewCells) : todo;
    const workers = workerCount(config.workers, batch.length, config.workers === 'auto' && batch.length > 1 ? await idleCores() : 1);
    if (workers > 1) log.write(`workers: ${workers} processes, one kernel thread each\n`);
    try {
      if (workers > 1) {
        const cellBars = new Map<string, cliProgress.SingleBar>();
        await trainInWorkers(batch, config, {
          workers,
          backend: backend.name,
          log,
          runDir: (cell) => cellRunDir(config.out, cell),
          ...(options.signal ? { signal: options.signal } : {}),
          onStart: (cell) => {
            const bar = bars?.create(1, 0, { label: cell.id.padEnd(8).slice(0, 28), extra: '' });
            if (bar) cellBars.set(cell.id, bar);
          },
          onStep: (cell, e, total) => {
            const bar = cellBars.get(cell.id);
            bar?.setTotal(total);
            bar?.update(e.globalStep, { extra: `epoch ${e.epoch + 1}/${config.epochs} loss ${e.loss.toFixed(3)}` });
          },
          onResult: (result) => {
            const bar = cellBars.get(result.cell.id);
            if (bar) bars!.remove(bar);
            finished(result);
          },
        });
      } else {
        for (const cell of batch) {
          stopIfAsked(options.signal, `before cell ${cell.id}; ${ran.length} cells trained in this run are saved`);
          const cellBar = bars?.create(1, 0, { label: cell.id.padEnd(8).slice(0, 28), extra: '' });
          const result: CellResult = await runCell(cell, config, data, {
            runDir: cellRunDir(config.out, cell),
            backend: backend.name,
            ...(options.signal ? { signal: options.signal } : {}),
            onStep: (e, total) => {
              cellBar?.setTotal(total);
              cellBar?.update(e.globalStep, { extra: `epoch ${e.epoch + 1}/${config.epochs} loss ${e.loss.toFixed(3)}` });
            },
          });
          if (cellBar) bars!.remove(cellBar);
          finished(result);
        }
      }
    } finally {
      bars?.stop();
      // workers finish in any order; the summary lists cells in grid order, as one process does
      const order = new Map(todo.map((c, i) => [c.id, i]));
      ran.sort((a, b) => order.get(a)! - order.get(b)!);
    }
    log.write(`trained ${ran.length} cells in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const report = await writeReportFor(config.out, { backend: backend.name });
  const done = report.results.length;
  results?.write(`report: ${config.out}/index.html (${done} of ${report.cells.length} cells)${report.missing.length ? `; ${report.missing.length} missing: run the other shards, then merge` : ''}\n`);
  return { kind: 'grid', out: config.out, ran, skipped, report, backend: backend.name };
}

function stopIfAsked(signal: AbortSignal | undefined, where: string): void {
  if (!signal?.aborted) return;
  const reason = typeof signal.reason === 'string' ? signal.reason : 'an abort request';
  throw new TrainingStoppedError({ reason, exitCode: signalExitCode(reason), where });
}

/** Re-writes the report of a result folder from its `grid.json` and `cells/` (holding the folder's lock). */
export async function writeReportFor(out: string, context: { backend?: string } = {}): Promise<GridReport> {
  const lock = lockFolder(out, { waitMs: FOLDER_LOCK_WAIT_MS });
  try {
    return await writeReportLocked(out, context);
  } finally {
    lock.release();
  }
}

async function writeReportLocked(out: string, context: { backend?: string }): Promise<GridReport> {
  const grid = readGridFile(out);
  const results = readCells(out);
  const backends = [...new Set(results.map((r) => r.backend))].join(', ');
  const config = { ...grid.config, out };
  // the description comes from the settings alone, so a merged report reads like a single run's
  const description = describeData(config);
  const report = gridReport(config, grid.cells, results, description, backends || context.backend || 'none');
  await writeGridReport(out, report);
  return report;
}
