// The manifests are typed with kubernetes-models' API types (a dev dependency, types only): a
// misspelt or misplaced field fails the type check; the tests validate them against the schema.
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IConfigMap, IPodTemplateSpec } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import { AblationConfigError } from '../errors.js';
import { compactRanges, jobConfigJson, memory, shellQuote, type ShardPlan } from './plan.js';
import { SHARDS_ENV } from './shard-env.js';

/** `plan --k8s`'s options: the image, the claim the shards share, resources per pod. */
export interface K8sPlanOptions {
  /** Container image with r3d-ablation on its PATH (or say how to start it with `exec`). */
  image: string;
  /** PersistentVolumeClaim (ReadWriteMany) every pod mounts: the result folder lives on it. */
  pvc: string;
  /** Where the claim is mounted in the pods; the pods' `--out` (default /results). */
  mount?: string;
  /** Name of the Job (default r3d-ablation; the merge Job adds `-merge`, the ConfigMap `-config`). */
  name?: string;
  /** The command that runs r3d-ablation in the image, split on blanks (default `r3d-ablation`). */
  exec?: string;
  /** CPUs requested per pod. */
  cpus?: number;
  /** Memory per pod (request and limit): `4Gi` (or Slurm's `4G`). */
  mem?: string;
  /** At most this many pods at once (the Job's parallelism; default all). */
  parallelism?: number;
}

/** The three objects of a Kubernetes plan, as plain JSON-able objects. */
export interface K8sManifests {
  /** The settings every pod reads, mounted at /etc/r3d-ablation. */
  configMap: Record<string, unknown>;
  /** The Indexed Job, one completion per shard still to run; absent when none is left. */
  job?: Record<string, unknown>;
  /** The Job that rewrites the report over every cell once the shards are done. */
  merge: Record<string, unknown>;
}

const CONFIG_DIR = '/etc/r3d-ablation';

/**
 * The manifests of a Kubernetes plan: a ConfigMap with the settings, an Indexed Job
 * (`completionMode: Indexed`, one completion per shard still to run, each pod
 * `run --shard auto/N` into the claim's mount) and a merge Job (`report`). A re-plan that runs
 * only some shards lists them in `R3D_ABLATION_SHARDS`, since completion indexes always count
 * from 0.
 *
 * @example
 * const m = k8sManifests(planShards(config), { image: 'ghcr.io/me/r3d:1', pvc: 'ablation-results' });
 * m.job?.spec; // { completionMode: 'Indexed', completions: 14, parallelism: 14, ... }
 */
export function k8sManifests(plan: ShardPlan, options: K8sPlanOptions): K8sManifests {
  const name = options.name ?? 'r3d-ablation';
  // the Job's name becomes a label and a pod hostname prefix: a DNS label, room for "-config"
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 52) throw new AblationConfigError('name', `expected a DNS label (lower-case letters, digits, '-', at most 52), got "${name}"`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.pvc)) throw new AblationConfigError('pvc', `expected a PersistentVolumeClaim name, got "${options.pvc}"`);
  if (!options.image || /\s/.test(options.image)) throw new AblationConfigError('image', `expected a container image reference, got "${options.image}"`);
  const mount = options.mount ?? '/results';
  if (!mount.startsWith('/')) throw new AblationConfigError('mount', `expected an absolute path in the pod, got "${mount}"`);
  if (options.cpus !== undefined && !(Number.isInteger(options.cpus) && options.cpus >= 1)) throw new AblationConfigError('cpus', `expected a positive integer, got ${options.cpus}`);
  if (options.parallelism !== undefined && !(Number.isInteger(options.parallelism) && options.parallelism >= 1)) throw new AblationConfigError('array-limit', `expected a positive integer, got ${options.parallelism}`);
  const exec = (options.exec ?? 'r3d-ablation').split(/\s+/).filter(Boolean);
  const labels = { 'app.kubernetes.io/name': 'r3d-ablation', 'app.kubernetes.io/instance': name };
  const mem = options.mem ? memory(options.mem, 'k8s') : undefined;
  const resources =
    options.cpus || mem
      ? {
          requests: { ...(options.cpus ? { cpu: String(options.cpus) } : {}), ...(mem ? { memory: mem } : {}) },
          ...(mem ? { limits: { memory: mem } } : {}),
        }
      : undefined;
  const pod = (command: string[], env?: Array<{ name: string; value: string }>): IPodTemplateSpec => ({
    metadata: { labels },
    spec: {
      // a restarted pod resumes: its finished cells are skipped, the cell in progress resumes from its checkpoint
      restartPolicy: 'OnFailure',
      containers: [
        {
          name: 'ablation',
          image: options.image,
          command,
          ...(env ? { env } : {}),
          ...(resources ? { resources } : {}),
          volumeMounts: [
            { name: 'results', mountPath: mount },
            { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'results', persistentVolumeClaim: { claimName: options.pvc } },
        { name: 'config', configMap: { name: `${name}-config` } },
      ],
    },
  });

  const configMap: IConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-config`, labels },
    data: { 'ablation.json': jobConfigJson(plan.config) },
  };
  const merge: IJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${name}-merge`, labels },
    spec: { completions: 1, parallelism: 1, backoffLimit: 2, template: pod([...exec, 'report', mount]) },
  };
  let job: IJob | undefined;
  const n = plan.shards.length;
  if (n > 0) {
    const everyShard = n === plan.count;
    job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, labels },
      spec: {
        completionMode: 'Indexed',
        completions: n,
        parallelism: Math.min(options.parallelism ?? n, n),
        // Kubernetes counts failures over all indexes (default 6): two per shard
        backoffLimit: Math.max(6, 2 * n),
        template: pod(
          [...exec, 'run', '--config', `${CONFIG_DIR}/ablation.json`, '--out', mount, '--shard', `auto/${plan.count}`, '--no-progress'],
          everyShard ? undefined : [{ name: SHARDS_ENV, value: plan.shards.join(',') }],
        ),
      },
    };
  }
  return { configMap: { ...configMap }, ...(job ? { job: { ...job } } : {}), merge: { ...merge } };
}

/**
 * The files of a Kubernetes plan, by name inside the result folder: `k8s/ablation-job.yaml` (the
 * ConfigMap and the Indexed Job), `k8s/merge-job.yaml` and `k8s/submit.sh`, which applies the
 * first, waits for the Job to complete (Kubernetes has no job dependencies) and applies the merge.
 *
 * @example
 * const files = k8sFiles(planShards(config), { image: 'ghcr.io/me/r3d:1', pvc: 'ablation-results' });
 * Object.keys(files); // ['k8s/ablation-job.yaml', 'k8s/merge-job.yaml', 'k8s/submit.sh']
 */
export function k8sFiles(plan: ShardPlan, options: K8sPlanOptions): Record<string, string> {
  const m = k8sManifests(plan, options);
  const name = options.name ?? 'r3d-ablation';
  const yaml = (header: string, docs: Array<Record<string, unknown>>) => `${header}\n${docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n')}`;
  const left = `${plan.shards.length} of ${plan.count} shards (${plan.missing.length} of ${plan.cells.length} cells left)`;
  const files: Record<string, string> = {};
  files['k8s/ablation-job.yaml'] = yaml(`# Written by r3d-ablation plan --k8s: ${m.job ? left : 'every cell is done, no shard to run'}.`, [m.configMap, ...(m.job ? [m.job] : [])]);
  files['k8s/merge-job.yaml'] = yaml('# Written by r3d-ablation plan --k8s: the report over every cell, once the shards are done.', [m.merge]);
  const q = shellQuote;
  files['k8s/submit.sh'] = [
    '#!/bin/sh',
    '# Written by r3d-ablation plan --k8s: starts the shards, waits for them, then the merge.',
    'set -eu',
    'cd "$(dirname "$0")"',
    '# a Job\'s pod template cannot change: drop the Jobs of an earlier plan (finished cells stay on the claim)',
    `kubectl delete job ${q(name)} ${q(`${name}-merge`)} --ignore-not-found`,
    'kubectl apply -f ablation-job.yaml',
    ...(m.job
      ? [
          'while :; do',
          `  state=$(kubectl get job ${q(name)} -o jsonpath='{.status.conditions[?(@.status=="True")].type}')`,
          '  case "$state" in',
          '    *Complete*) break ;;',
          `    *Failed*) echo "r3d-ablation: the shard Job failed; kubectl logs -l job-name=${name}, then plan again" >&2; exit 1 ;;`,
          '  esac',
          '  sleep 30',
          'done',
        ]
      : []),
    'kubectl apply -f merge-job.yaml',
    `echo "submitted: ${m.job ? `shards ${compactRanges(plan.shards)} of ${plan.count}, then ` : ''}merge job ${name}-merge"`,
    '',
  ].join('\n');
  return files;
}
