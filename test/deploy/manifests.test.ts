import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { OPTIONS, loadConfig } from '../../src/config.js';
import { parseDatabaseUrl } from '../../src/store/dialect.js';
import { type TestApp, build } from '../helpers/build-app.js';
import { ROOT } from '../helpers/paths.js';

/*
 * Docker cannot run on the development machine, so deploy/ is checked against the code instead:
 * every env var it sets is one the service reads (and validates), every probe answers 200 on the real
 * app, ports, names, labels and the Secret line up, and the image runs the built CLI as non-root.
 */

const DEPLOY = join(ROOT, 'deploy');
const K8S = join(DEPLOY, 'kubernetes');

// ---- Kubernetes manifests ----

type Obj = Record<string, unknown>;

interface ManifestBody {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Obj;
  [key: string]: unknown;
}
type Manifest = ManifestBody & { file: string };

const k8sFiles = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f)).sort();

const manifests: Manifest[] = k8sFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors, [], `${file} is not valid YAML`);
    return { ...(doc.toJS() as ManifestBody), file };
  }),
);

function only(kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `expected exactly one ${kind} in deploy/kubernetes, found ${found.length}`);
  return found[0]!;
}

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: unknown[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Obj;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: Obj;
  volumes?: ({ name: string } & Obj)[];
}

const deployment = only('Deployment');
const template = (deployment.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;
const pod = template.spec;
assert.equal(pod.containers.length, 1, 'the Deployment runs one container');
const container = pod.containers[0]!;
const deployEnv = new Map((container.env ?? []).map((e) => [e.name, e]));
const probes = (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).map((k) => ({ kind: k, probe: container[k] }));

const cpuCores = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
const bytes = (q: string) => {
  const m = /^(\d+(?:\.\d+)?)([KMG]i?)?$/.exec(q);
  assert.ok(m, `unparsable memory quantity ${q}`);
  return Number(m[1]) * (m[2] ? UNITS[m[2]]! : 1);
};

// ---- Dockerfile ----

interface Instruction {
  op: string;
  args: string;
}

/** Instructions grouped by stage (one per FROM), with comments dropped and continuation lines joined. */
function parseDockerfile(text: string): Instruction[][] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*\S)\s*$/.exec(line);
    if (!m) continue;
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ') };
    if (ins.op === 'FROM') stages.push([]);
    assert.ok(stages.length > 0, `${ins.op} before FROM`);
    stages.at(-1)!.push(ins);
  }
  return stages;
}

function parseEnv(args: string): [string, string][] {
  if (!/^\S+=/.test(args)) {
    const [key, ...rest] = args.split(' ');
    return [[key!, rest.join(' ')]];
  }
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))/g)].map((m) => [m[1]!, m[2] ?? m[3] ?? m[4] ?? '']);
}

const dockerStages = parseDockerfile(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8'));
const runtime = dockerStages.at(-1)!;
const ops = (op: string, stage = runtime) => stage.filter((i) => i.op === op);
const lastOp = (op: string) => {
  const found = ops(op);
  assert.ok(found.length > 0, `the Dockerfile's runtime stage has no ${op}`);
  return found.at(-1)!;
};
const dockerEnv = Object.fromEntries(ops('ENV').flatMap((i) => parseEnv(i.args)));
const workdir = lastOp('WORKDIR').args;
const dockerignore = readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

// ---- the code ----

const SERVICE_ENV = new Set([...Object.values(OPTIONS).map((o) => o.env), 'NODE_ENV']);
const PORT_DEFAULT = (OPTIONS.port.schema as { default?: number }).default;
/** The drain after SIGTERM, read from src/cli/serve.ts so that changing it there fails here. */
const SHUTDOWN_GRACE_S = (() => {
  const m = /SHUTDOWN_GRACE_MS\s*=\s*([\d_]+)/.exec(readFileSync(join(ROOT, 'src/cli/serve.ts'), 'utf8'));
  assert.ok(m, 'src/cli/serve.ts no longer declares SHUTDOWN_GRACE_MS; update this test');
  return Number(m[1]!.replace(/_/g, '')) / 1000;
})();

const secret = only('Secret');
const secretData = (): Record<string, string> => {
  const s = secret as Manifest & { stringData?: Record<string, string>; data?: Record<string, string> };
  return {
    ...Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])),
    ...s.stringData,
  };
};

/** The Deployment's environment as the process sees it: the image's ENV, then the manifest's, with Secret refs resolved. */
function podEnvironment(): Record<string, string> {
  const env: Record<string, string> = { ...dockerEnv };
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      assert.equal(ref.name, secret.metadata.name, `${e.name} refers to Secret ${ref.name}, but secret.yaml defines ${secret.metadata.name}`);
      const value = secretData()[ref.key];
      assert.ok(value !== undefined, `${e.name} refers to key ${ref.key}, which Secret ${ref.name} does not have`);
      env[e.name] = value;
    } else {
      assert.ok(e.value !== undefined, `${e.name} has neither a value nor a secretKeyRef`);
      env[e.name] = e.value;
    }
  }
  return env;
}

describe('deploy/: the Dockerfile and Kubernetes manifests agree with the code', () => {
  describe('environment', () => {
    it('sets only env vars the service reads', () => {
      assert.equal(container.envFrom, undefined, 'envFrom would set env vars this test cannot see; list them in env');
      for (const [name, where] of [
        ...[...deployEnv.keys()].map((n) => [n, 'deployment.yaml'] as const),
        ...Object.keys(dockerEnv).map((n) => [n, 'Dockerfile ENV'] as const),
      ]) {
        assert.ok(SERVICE_ENV.has(name), `${where} sets ${name}, which the service does not read (not in OPTIONS of src/config.ts)`);
      }
    });

    it('passes the service\'s own validation, in the image and in the Deployment', () => {
      const image = loadConfig({}, dockerEnv);
      assert.equal(image.port, Number(dockerEnv.PORT));
      const inPod = loadConfig({}, podEnvironment());
      assert.equal(inPod.port, container.ports?.find((p) => p.name === 'http')?.containerPort);
    });

    it('points MODEL_PATH at the model the image copies in', () => {
      const modelPath = dockerEnv.MODEL_PATH;
      assert.ok(modelPath, 'the Dockerfile sets no MODEL_PATH');
      assert.equal(posix.dirname(modelPath), posix.join(workdir, 'models'), 'MODEL_PATH is outside the models directory the image copies');
      assert.ok(existsSync(join(ROOT, 'models', basename(modelPath))), `models/${basename(modelPath)} does not exist in the repository`);
      assert.ok(ops('COPY').some((c) => /\bmodels\s+\.\/models$/.test(c.args)), 'the runtime stage does not copy models/ into ./models');
    });

    it('keeps the image\'s SQLite history on the declared volume', () => {
      const url = dockerEnv.DATABASE_URL ?? '';
      const location = parseDatabaseUrl(url);
      assert.equal(location.dialect, 'sqlite', 'a single container keeps its history in SQLite');
      const volume = lastOp('VOLUME').args.replace(/^\["?|"?\]$/g, '');
      assert.equal(url, `sqlite:${posix.join(volume, basename(url))}`, 'the SQLite file is not on the VOLUME (an absolute path in it)');
    });

    it('limits ONNX Runtime threads to the pod\'s CPU limit', () => {
      const threads = deployEnv.get('INFERENCE_THREADS')?.value;
      const limit = container.resources?.limits?.cpu;
      assert.ok(limit, 'the container has no CPU limit');
      // Without it, ONNX Runtime uses one thread per core of the node, however many the pod may use.
      assert.ok(threads !== undefined, 'INFERENCE_THREADS is not set: it would default to the node\'s core count');
      assert.ok(Number(threads) <= cpuCores(limit), `INFERENCE_THREADS=${threads} exceeds the CPU limit ${limit}`);
    });
  });

  describe('probes', () => {
    let t: TestApp;
    before(async () => {
      t = await build(undefined, { INFERENCE_THREADS: '1' });
    });
    after(async () => {
      await t.close();
    });

    it('has startup, liveness and readiness probes on /healthz, /healthz and /readyz', () => {
      assert.deepEqual(
        probes.map(({ kind, probe }) => [kind, probe?.httpGet.path]),
        [['startupProbe', '/healthz'], ['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']],
      );
    });

    it('every probe path, and the image\'s HEALTHCHECK, answers 200 on the real app', async () => {
      const healthcheck = lastOp('HEALTHCHECK').args;
      // 'http://127.0.0.1:8000/healthz', or a port from the env followed by '/healthz'
      const hcPath = /:\d+(\/[\w/-]*)/.exec(healthcheck)?.[1] ?? /['"](\/[\w/-]*)['"]/.exec(healthcheck)?.[1];
      assert.equal(hcPath, '/healthz', `cannot find the /healthz request in HEALTHCHECK ${healthcheck}`);
      const paths = new Set([...probes.map(({ probe }) => probe!.httpGet.path), hcPath]);
      for (const url of paths) {
        const res = await t.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200, `GET ${url} answered ${res.statusCode}: ${res.body}`);
      }
    });
  });

  describe('ports', () => {
    const ports = container.ports ?? [];
    const http = ports.find((p) => p.name === 'http');
    const servicePort = deployEnv.get('PORT')?.value ?? dockerEnv.PORT ?? String(PORT_DEFAULT);

    it('the container port named http is the port the service listens on', () => {
      assert.ok(http, 'the container has no port named http');
      assert.equal(http.containerPort, Number(servicePort));
    });

    it('the Dockerfile EXPOSEs its ENV PORT', () => {
      assert.ok(dockerEnv.PORT, 'the Dockerfile sets no PORT');
      assert.deepEqual(lastOp('EXPOSE').args.split(' ').map((p) => Number(p.replace(/\/tcp$/, ''))), [Number(dockerEnv.PORT)]);
    });

    it('the image\'s HEALTHCHECK uses the port the service listens on', () => {
      const hc = lastOp('HEALTHCHECK').args;
      assert.ok(hc.includes('process.env.PORT') || hc.includes(`:${dockerEnv.PORT}/`), `HEALTHCHECK does not use port ${dockerEnv.PORT}: ${hc}`);
    });

    it('probes and the Service target that port', () => {
      const service = only('Service');
      const targets = [
        ...probes.map(({ kind, probe }) => [kind, probe!.httpGet.port] as const),
        ...((service.spec as { ports: { targetPort: string | number }[] }).ports.map((p) => ['Service targetPort', p.targetPort] as const)),
      ];
      for (const [where, port] of targets) {
        if (typeof port === 'string') assert.ok(ports.some((p) => p.name === port && p.containerPort === http?.containerPort), `${where} names port ${port}, not the http container port`);
        else assert.equal(port, http?.containerPort, `${where} targets port ${port}`);
      }
    });
  });

  describe('wiring', () => {
    it('DATABASE_URL comes from the Secret that secret.yaml defines', () => {
      const ref = deployEnv.get('DATABASE_URL')?.valueFrom?.secretKeyRef;
      assert.ok(ref, 'DATABASE_URL is not read from a Secret');
      assert.equal(ref.name, secret.metadata.name);
      assert.ok(ref.key in secretData(), `Secret ${secret.metadata.name} has no key ${ref.key}`);
    });

    it('the Secret\'s example DATABASE_URL is a PostgreSQL URL (several replicas share one database)', () => {
      const url = secretData().DATABASE_URL!;
      assert.deepEqual(parseDatabaseUrl(url), { dialect: 'postgres', url });
    });

    it('the HPA scales the Deployment, within its bounds', () => {
      const hpa = only('HorizontalPodAutoscaler');
      assert.equal(hpa.apiVersion, 'autoscaling/v2');
      const spec = hpa.spec as { scaleTargetRef: { apiVersion: string; kind: string; name: string }; minReplicas: number; maxReplicas: number };
      assert.deepEqual(spec.scaleTargetRef, { apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name });
      const replicas = (deployment.spec as { replicas: number }).replicas;
      assert.ok(spec.minReplicas <= replicas && replicas <= spec.maxReplicas, `replicas ${replicas} outside the HPA's ${spec.minReplicas}–${spec.maxReplicas}`);
      assert.ok(container.resources?.requests?.cpu, 'CPU utilization needs a CPU request');
    });

    it('the Service and the Deployment select the pod template\'s labels', () => {
      const labels = template.metadata.labels;
      const selectors = {
        'Service selector': (only('Service').spec as { selector: Record<string, string> }).selector,
        'Deployment selector': (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
      };
      for (const [where, selector] of Object.entries(selectors)) {
        assert.ok(Object.keys(selector).length > 0, `${where} is empty`);
        for (const [k, v] of Object.entries(selector)) assert.equal(labels[k], v, `${where} ${k}=${v} does not match the pod labels`);
      }
    });

    it('kustomization.yaml lists every manifest in the folder, and only those', () => {
      const kustomization = only('Kustomization') as Manifest & { resources: string[] };
      assert.deepEqual([...kustomization.resources].sort(), k8sFiles.filter((f) => f !== 'kustomization.yaml'));
    });
  });

  describe('shutdown and resources', () => {
    it('the grace period covers the preStop sleep and the service\'s drain', () => {
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      const preStop = container.lifecycle?.preStop;
      const sleep = preStop?.sleep?.seconds ?? Number(preStop?.exec?.command.at(-1));
      assert.ok(sleep > 0, 'preStop sleeps so that endpoints are removed before the drain starts');
      assert.ok(grace > SHUTDOWN_GRACE_S + sleep, `terminationGracePeriodSeconds ${grace} ≤ preStop ${sleep} s + drain ${SHUTDOWN_GRACE_S} s`);
      assert.equal(lastOp('STOPSIGNAL').args, 'SIGTERM');
    });

    it('requests and limits leave room for the measured ~430 MB RSS', () => {
      const { requests, limits } = container.resources ?? {};
      assert.ok(requests?.memory && limits?.memory && requests.cpu && limits.cpu, 'CPU and memory requests and limits');
      assert.ok(bytes(requests.memory) >= 430e6, `memory request ${requests.memory} is under the measured RSS`);
      assert.ok(bytes(limits.memory) >= bytes(requests.memory) && cpuCores(limits.cpu) >= cpuCores(requests.cpu));
    });
  });

  describe('security', () => {
    it('runs as the image\'s non-root user, with a read-only root and /tmp writable', () => {
      const user = lastOp('USER').args;
      const uid = Number(user.split(':')[0]);
      assert.ok(Number.isInteger(uid) && uid > 0, `the image's USER ${user} is not a numeric non-root UID`);
      const sc = { ...pod.securityContext, ...container.securityContext } as Obj & { capabilities?: { drop?: string[] } };
      assert.equal(sc.runAsNonRoot, true);
      assert.equal(sc.runAsUser, uid, 'runAsUser is not the image\'s USER');
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.deepEqual(sc.capabilities?.drop, ['ALL']);
      const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
      assert.ok(tmp, '/tmp is not mounted');
      assert.ok(pod.volumes?.find((v) => v.name === tmp.name && 'emptyDir' in v), '/tmp is not an emptyDir');
    });

    it('the image\'s user owns /app/data', () => {
      const run = ops('RUN').map((i) => i.args).join(' ');
      const uid = lastOp('USER').args.split(':')[0]!;
      assert.match(run, new RegExp(`useradd\\b.*--uid ${uid}\\b`));
      assert.match(run, new RegExp(`chown ${uid}(:\\d+)? ${posix.join(workdir, 'data')}\\b`));
    });
  });

  describe('image', () => {
    it('CMD serves the compiled CLI, which the build stage compiles from src/cli/main.ts', () => {
      const cmd = JSON.parse(lastOp('CMD').args) as string[];
      assert.deepEqual(cmd, ['node', 'dist/src/cli/main.js', 'serve']);
      const source = cmd[1]!.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      assert.ok(existsSync(join(ROOT, source)), `${source} does not exist`);
      assert.match(readFileSync(join(ROOT, source), 'utf8'), /command\('serve'\)/, `${source} has no serve command`);
      const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
      assert.deepEqual([tsconfig.compilerOptions.outDir, tsconfig.compilerOptions.rootDir], ['dist', '.'], 'src/x.ts compiles to dist/src/x.js');
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
      assert.equal(pkg.scripts.start, cmd.join(' '));
      assert.equal(pkg.scripts.build, 'tsc -p tsconfig.build.json');
      const buildStage = dockerStages[0]!;
      assert.ok(ops('RUN', buildStage).some((i) => i.args.includes('npm run build')), 'the build stage does not run npm run build');
      assert.ok(ops('COPY').some((c) => /--from=\S+ \S*\/dist \.\/dist$/.test(c.args)), 'the runtime stage does not copy dist/');
    });

    it('the build context keeps what the Dockerfile copies and leaves out local state', () => {
      for (const excluded of ['node_modules', 'dist', 'data', '.git', 'test', 'training/data', 'training/runs', 'bench/results']) {
        assert.ok(dockerignore.includes(excluded), `Dockerfile.dockerignore does not exclude ${excluded}`);
      }
      const fromContext = dockerStages.flatMap((s) => ops('COPY', s)).filter((c) => !c.args.startsWith('--from'));
      for (const copy of fromContext) {
        const sources = copy.args.split(' ').slice(0, -1);
        for (const src of sources) {
          const ignored = dockerignore.some((p) => src === p || src.startsWith(`${p}/`));
          assert.ok(!ignored, `the Dockerfile copies ${src}, which Dockerfile.dockerignore excludes`);
          assert.ok(existsSync(join(ROOT, src)), `the Dockerfile copies ${src}, which does not exist`);
        }
      }
    });

    it('builds on the Node.js major version the package supports', () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
      const major = /^>=(\d+)/.exec(pkg.engines.node)?.[1];
      for (const stage of dockerStages) assert.match(stage[0]!.args, new RegExp(`^node:${major}-`));
    });
  });
});
