import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseAblationConfig } from '../config.js';
import { gridCells, shardCells } from '../grid.js';
import { gridFingerprint } from '../store/result-folder.js';
import { fakeFinishedCells, runCli, tinyConfig } from '../test-helpers.js';
import { k8sManifests } from './k8s.js';
import { planShards } from './plan.js';
import { resolveAutoShard } from './shard-env.js';
import { writeSchedulerPlan } from './write-plan.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Validation against the Kubernetes API schema (kubernetes-models: the OpenAPI schema of the
// API server compiled to validators); each document is validated as the kind it declares.
function validate(doc: Record<string, unknown>): void {
  if (doc.kind === 'Job') new Job(doc as never).validate();
  else if (doc.kind === 'ConfigMap') new ConfigMap(doc as never).validate();
  else throw new Error(`unexpected kind ${String(doc.kind)}`);
}
const readYaml = (path: string) => parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
// the fields the tests read, as the manifests hold them
type JobDoc = {
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions: number;
    parallelism: number;
    template: {
      spec: {
        restartPolicy: string;
        containers: Array<{ image: string; command: string[]; env?: Array<{ name: string; value: string }>; resources?: unknown; volumeMounts: Array<{ name: string; mountPath: string }> }>;
        volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string }; configMap?: { name: string } }>;
      };
    };
  };
};
// finished cells as runs write them (merge and re-plans read every cell strictly)
const fakeFinished = (out: string, ids: string[]) => fakeFinishedCells(out, ids);

describe('plan --k8s', () => {
  const config = parseAblationConfig({ ...tinyConfig(join(tmp, 'grid')), seeds: [1, 2] });
  const cells = gridCells(config).map((c) => c.id);

  it('writes an Indexed Job and a merge Job that pass the Kubernetes API schema', () => {
    const r = runCli(['plan', '--k8s', '--partners', 'rgb,depth,text', '--fusers', 'rtf-variance', '--seeds', '1,2', '--epochs', '1', '--out', join(tmp, 'cli'), '--image', 'ghcr.io/r3d-ts/ablation:0.1', '--pvc', 'ablation-results', '--shards', '4', '--array-limit', '2', '--cpus', '2', '--mem', '4G']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/plan: 4 of 4 shards to run \(0-3; 6 of 6 cells missing\); submit with: sh .*k8s\/submit\.sh/);
    const docs = readYaml(join(tmp, 'cli', 'k8s', 'ablation-job.yaml'));
    const merge = readYaml(join(tmp, 'cli', 'k8s', 'merge-job.yaml'));
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'Job']);
    expect(merge.map((d) => d.kind)).toEqual(['Job']);
    for (const d of [...docs, ...merge]) expect(() => validate(d)).not.toThrow();

    const job = docs[1] as unknown as JobDoc;
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 2 });
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('OnFailure');
    const [container] = pod.containers;
    expect(container!.image).toBe('ghcr.io/r3d-ts/ablation:0.1');
    expect(container!.command).toEqual(['r3d-ablation', 'run', '--config', '/etc/r3d-ablation/ablation.json', '--out', '/results', '--shard', 'auto/4', '--no-progress']);
    expect(container!.env).toBeUndefined();
    expect(container!.resources).toEqual({ requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '4Gi' } });
    // the out folder is the claim's mount
    expect(container!.volumeMounts).toContainEqual({ name: 'results', mountPath: '/results' });
    expect(pod.volumes).toContainEqual({ name: 'results', persistentVolumeClaim: { claimName: 'ablation-results' } });
    expect((merge[0] as unknown as JobDoc).spec.template.spec.containers[0]!.command).toEqual(['r3d-ablation', 'report', '/results']);

    // the ConfigMap carries the grid: the pods' configuration is the planned one
    const data = (docs[0] as { data: Record<string, string> }).data['ablation.json']!;
    const podConfig = parseAblationConfig({ ...JSON.parse(data), out: '/results' });
    const planned = JSON.parse(readFileSync(join(tmp, 'cli', 'grid.json'), 'utf8'));
    expect(gridFingerprint(podConfig)).toBe(planned.fingerprint);
    expect(gridCells(podConfig).map((c) => c.id)).toEqual(cells);
    expect(readFileSync(join(tmp, 'cli', 'k8s', 'submit.sh'), 'utf8')).toMatch(/kubectl apply -f ablation-job\.yaml[\s\S]*\*Complete\*\) break[\s\S]*kubectl apply -f merge-job\.yaml/);
  });

  it('the schema check is live: it rejects what the API server would', () => {
    const { job } = k8sManifests(planShards(config, 2), { image: 'img:1', pvc: 'results' });
    const broken = structuredClone(job!) as unknown as JobDoc;
    (broken.spec as { completions: unknown }).completions = 'two';
    expect(() => validate(broken as unknown as Record<string, unknown>)).toThrow(/completions must be integer/);
    const noImage = structuredClone(job!) as unknown as JobDoc;
    delete (noImage.spec.template.spec as { containers?: unknown }).containers;
    expect(() => validate(noImage as unknown as Record<string, unknown>)).toThrow(/containers/);
  });

  it('a re-plan after some shards finished runs only the missing shards, mapped by R3D_ABLATION_SHARDS', () => {
    const out = join(tmp, 'replan');
    const cfg = { ...config, out };
    const first = planShards(cfg, 3);
    expect(first.shards).toEqual([0, 1, 2]);
    // shard 0 and half of shard 2 finished
    const all = gridCells(cfg);
    fakeFinished(out, [...shardCells(all, { index: 0, count: 3 }).map((c) => c.id), shardCells(all, { index: 2, count: 3 })[0]!.id]);
    const written = writeSchedulerPlan(cfg, { k8s: { image: 'img:1', pvc: 'results' } }, 3);
    expect(written.plan.shards).toEqual([1, 2]);
    const docs = readYaml(join(out, 'k8s', 'ablation-job.yaml'));
    for (const d of docs) expect(() => validate(d)).not.toThrow();
    const job = docs[1] as unknown as JobDoc;
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2 });
    const env = Object.fromEntries(job.spec.template.spec.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(env).toEqual({ R3D_ABLATION_SHARDS: '1,2' });
    // what each completion index then runs: exactly the cells still missing, plus none finished
    const ran = [0, 1].flatMap((i) => shardCells(all, resolveAutoShard('auto/3', { ...env, JOB_COMPLETION_INDEX: String(i) })).map((c) => c.id));
    expect(ran.filter((id) => written.plan.missing.includes(id)).sort()).toEqual([...written.plan.missing].sort());
    expect(written.plan.missing).toHaveLength(all.length - 3);

    fakeFinished(out, all.map((c) => c.id));
    const done = writeSchedulerPlan(cfg, { k8s: { image: 'img:1', pvc: 'results' } }, 3);
    expect(done.plan.shards).toEqual([]);
    expect(readYaml(join(out, 'k8s', 'ablation-job.yaml')).map((d) => d.kind)).toEqual(['ConfigMap']);
    expect(readFileSync(join(out, 'k8s', 'submit.sh'), 'utf8')).not.toMatch(/kubectl get job/);
  });

  it('refuses what Kubernetes would refuse, before writing anything', () => {
    const plan = planShards({ ...config, out: join(tmp, 'names') }, 2);
    expect(() => k8sManifests(plan, { image: 'img:1', pvc: 'results', name: 'Ablation_1' })).toThrow(/name: expected a DNS label/);
    expect(() => k8sManifests(plan, { image: 'img:1', pvc: 'results', mount: 'results' })).toThrow(/mount: expected an absolute path/);
    expect(() => k8sManifests(plan, { image: 'img:1', pvc: 'results', mem: 'lots' })).toThrow(/mem: expected an amount/);
    const r = runCli(['plan', '--k8s', '--image', 'img:1', '--out', join(tmp, 'never')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('r3d-ablation: plan: --k8s needs --image <image> and --pvc <claim>');
  });
});
