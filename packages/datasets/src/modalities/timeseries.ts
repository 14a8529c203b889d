import { parse } from 'csv-parse/sync';
import { DatasetFormatError } from '../errors.js';

/** A multichannel time series: `times[i]` and `channels` values per row in `data`. */
export interface TimeSeries {
  header: string[];
  times: Float64Array;
  channels: number;
  data: Float64Array;
}

/**
 * Parses a time-series CSV with a header row: column 0 a time (or sample index), then numeric
 * channels (DARai IMU: 9, gaze: 2, EMG: 2, bio: 5, insole: 18). Empty cells, non-numbers, ragged
 * rows and decreasing times throw `DatasetFormatError` with the 1-based line.
 *
 * @example
 * const imu = parseTimeSeriesCsv(readFileSync('IMU/Making pancake/01_1.csv', 'utf8'), 'IMU.csv');
 */
export function parseTimeSeriesCsv(text: string, file = '<buffer>'): TimeSeries {
  let rows: string[][];
  try {
    rows = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new DatasetFormatError({ file, ...(line != null ? { line } : { offset: 0 }), expected: 'comma-separated values', found: (e as Error).message, cause: e });
  }
  if (rows.length === 0) throw new DatasetFormatError({ file, line: 1, expected: 'a header row (time, channel names...)', found: 'an empty file' });
  const header = rows[0]!;
  if (header.length < 2) throw new DatasetFormatError({ file, line: 1, expected: 'a header with a time column and at least one channel', found: header.join(',') });
  if (header.every((h) => h !== '' && Number.isFinite(Number(h)))) {
    throw new DatasetFormatError({ file, line: 1, expected: 'a header row of column names', found: header.join(',') });
  }
  const channels = header.length - 1;
  const n = rows.length - 1;
  if (n < 1) throw new DatasetFormatError({ file, line: 2, expected: 'at least one data row after the header', found: 'none' });
  const times = new Float64Array(n);
  const data = new Float64Array(n * channels);
  for (let r = 0; r < n; r++) {
    const row = rows[r + 1]!;
    const line = r + 2;
    if (row.length !== header.length) {
      throw new DatasetFormatError({ file, line, expected: `${header.length} columns like the header`, found: `${row.length}` });
    }
    for (let c = 0; c < row.length; c++) {
      const cell = row[c]!;
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) throw new DatasetFormatError({ file, line, expected: `a finite number in column "${header[c]}"`, found: cell });
      if (c === 0) times[r] = v;
      else data[r * channels + c - 1] = v;
    }
    if (r > 0 && times[r]! < times[r - 1]!) {
      throw new DatasetFormatError({ file, line, expected: `non-decreasing times in column "${header[0]}"`, found: `${times[r]} after ${times[r - 1]}` });
    }
  }
  return { header, times, channels, data };
}

/**
 * Resamples a series to given frame times by linear interpolation on the timestamps; frames
 * before the first or after the last sample hold the edge value (no extrapolation). Equal
 * timestamps take the later sample.
 *
 * @example
 * const perFrame = resampleToTimes(imu, frameTimes(120, 15, imu.times[0])); // 120 x 9
 */
export function resampleToTimes(series: TimeSeries, times: ArrayLike<number>): Float32Array {
  const { times: ts, channels: C, data } = series;
  const out = new Float32Array(times.length * C);
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (t < ts[j]!) j = 0; // unsorted query times: restart the scan
    while (j + 1 < ts.length && ts[j + 1]! <= t) j++;
    // j is now the last sample at or before t (or 0 when t precedes the series).
    if (t < ts[0]!) {
      let k = 0;
      while (k + 1 < ts.length && ts[k + 1] === ts[0]) k++;
      for (let c = 0; c < C; c++) out[i * C + c] = data[k * C + c]!;
    } else if (j + 1 >= ts.length) {
      for (let c = 0; c < C; c++) out[i * C + c] = data[j * C + c]!;
    } else {
      const w = (t - ts[j]!) / (ts[j + 1]! - ts[j]!);
      for (let c = 0; c < C; c++) {
        const a = data[j * C + c]!;
        out[i * C + c] = a + (data[(j + 1) * C + c]! - a) * w;
      }
    }
  }
  return out;
}

/**
 * Frame times `start + i / fps` (seconds) for `frames` video frames; multiply by 1000 for a
 * series timed in milliseconds.
 */
export function frameTimes(frames: number, fps: number, start = 0): Float64Array {
  const out = new Float64Array(frames);
  for (let i = 0; i < frames; i++) out[i] = start + i / fps;
  return out;
}

/**
 * Normalises each channel of `rows x channels` values in place: `zscore` (zero mean, unit
 * standard deviation) or `minmax` (to [0, 1]). A constant channel becomes zeros, never NaN.
 *
 * @example
 * normaliseChannels(perFrame, 9, 'zscore');
 */
export function normaliseChannels(data: Float32Array, channels: number, method: 'zscore' | 'minmax' = 'zscore'): Float32Array {
  const rows = data.length / channels;
  for (let c = 0; c < channels; c++) {
    if (method === 'zscore') {
      let mean = 0;
      for (let r = 0; r < rows; r++) mean += data[r * channels + c]!;
      mean /= rows;
      let v = 0;
      for (let r = 0; r < rows; r++) v += (data[r * channels + c]! - mean) ** 2;
      const sd = Math.sqrt(v / rows);
      for (let r = 0; r < rows; r++) data[r * channels + c] = sd > 0 ? (data[r * channels + c]! - mean) / sd : 0;
    } else {
      let lo = Infinity;
      let hi = -Infinity;
      for (let r = 0; r < rows; r++) {
        lo = Math.min(lo, data[r * channels + c]!);
        hi = Math.max(hi, data[r * channels + c]!);
      }
      for (let r = 0; r < rows; r++) data[r * channels + c] = hi > lo ? (data[r * channels + c]! - lo) / (hi - lo) : 0;
    }
  }
  return data;
}
