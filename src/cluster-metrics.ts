import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

/*
 * GET /metrics under `serve --workers N`. The scrape lands on whichever worker process the
 * connection went to; alone, it would report that process only, and counters would jump between
 * processes from one scrape to the next. So the worker that gets the scrape asks the primary, which
 * collects every worker's metrics and merges them with prom-client's cluster rules: counters and
 * histograms are summed, as are gauges unless the metric says otherwise (the model info gauge keeps
 * the first value; event-loop lag is averaged; start times are left out).
 *
 * worker → primary   scrape {id}
 * primary → workers  collect {id}            (every worker that announced itself ready)
 * workers → primary  local {id, metrics}     (prom-client's JSON form)
 * primary → worker   merged {id, text} | {id, error}
 */

/** How long the primary waits for the workers' metrics; a worker that has not answered by then is left out. */
const COLLECT_TIMEOUT_MS = 2_000;
/** How long the scraped worker waits for the primary. */
const SCRAPE_TIMEOUT_MS = COLLECT_TIMEOUT_MS + 1_000;

const PREFIX = 'leakwatch:metrics:';
type Message =
  | { type: `${typeof PREFIX}ready` }
  | { type: `${typeof PREFIX}scrape`; id: number }
  | { type: `${typeof PREFIX}collect`; id: number }
  | { type: `${typeof PREFIX}local`; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { type: `${typeof PREFIX}merged`; id: number; text?: string; error?: string };

const isMessage = (msg: unknown): msg is Message =>
  typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string' && (msg as { type: string }).type.startsWith(PREFIX);

/** Where GET /metrics gets its text. */
export interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
  close(): void;
}

export class ClusterMetricsError extends Error {
  override name = 'ClusterMetricsError';
}

/** This process's registry: a single server. */
function localMetrics(registry: Registry): MetricsSource {
  return { contentType: registry.contentType, text: () => registry.metrics(), close: () => undefined };
}

/**
 * The metrics source of a process: the whole cluster's for a worker of `serve --workers N`, which
 * also answers the primary's collections from its own registry; the process's own otherwise.
 */
export function metricsSource(registry: Registry): MetricsSource {
  const send = process.send?.bind(process);
  if (!cluster.isWorker || !send) return localMetrics(registry);
  let nextId = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  const onMessage = (msg: unknown) => {
    if (!isMessage(msg)) return;
    if (msg.type === `${PREFIX}collect`) {
      const { id } = msg;
      void registry.getMetricsAsJSON().then(
        (metrics) => send({ type: `${PREFIX}local`, id, metrics } satisfies Message),
        // An empty answer rather than none: the primary need not wait out its timeout.
        () => send({ type: `${PREFIX}local`, id, metrics: [] } satisfies Message),
      );
    } else if (msg.type === `${PREFIX}merged`) {
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.text !== undefined) w.resolve(msg.text);
      else w.reject(new ClusterMetricsError(msg.error ?? 'the primary sent no metrics'));
    }
  };
  process.on('message', onMessage);
  send({ type: `${PREFIX}ready` } satisfies Message);
  return {
    contentType: registry.contentType,
    text: () => new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new ClusterMetricsError('the primary process did not answer'));
      }, SCRAPE_TIMEOUT_MS);
      waiting.set(id, { resolve, reject, timer });
      send({ type: `${PREFIX}scrape`, id } satisfies Message);
    }),
    close() {
      process.off('message', onMessage);
      for (const w of waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new ClusterMetricsError('the server is closing'));
      }
      waiting.clear();
    },
  };
}

/** The primary's side: answers each worker's scrape with every ready worker's metrics, merged. */
export function serveClusterMetrics(): void {
  const ready = new Set<Worker>();
  let nextId = 0;
  const collections = new Map<number, { expected: Set<Worker>; answers: MetricObjectWithValues<MetricValue<string>>[][]; finish: () => void }>();

  const collect = (requester: Worker, scrapeId: number) => {
    const id = nextId++;
    const expected = new Set([...ready].filter((w) => w.isConnected()));
    const answers: MetricObjectWithValues<MetricValue<string>>[][] = [];
    const reply = (msg: Message) => {
      if (requester.isConnected()) requester.send(msg);
    };
    const finish = () => {
      clearTimeout(timer);
      collections.delete(id);
      const reporting = `# HELP leakwatch_cluster_workers_reporting Worker processes whose metrics this scrape merges\n`
        + `# TYPE leakwatch_cluster_workers_reporting gauge\nleakwatch_cluster_workers_reporting ${answers.length}\n`;
      Promise.resolve()
        .then(() => AggregatorRegistry.aggregate(answers).metrics())
        .then(
          (text) => reply({ type: `${PREFIX}merged`, id: scrapeId, text: text + reporting }),
          (err: unknown) => reply({ type: `${PREFIX}merged`, id: scrapeId, error: err instanceof Error ? err.message : String(err) }),
        );
    };
    const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
    collections.set(id, { expected, answers, finish });
    for (const w of expected) w.send({ type: `${PREFIX}collect`, id } satisfies Message);
    if (expected.size === 0) finish();
  };

  cluster.on('message', (worker: Worker, msg: unknown) => {
    if (!isMessage(msg)) return;
    if (msg.type === `${PREFIX}ready`) ready.add(worker);
    else if (msg.type === `${PREFIX}scrape`) collect(worker, msg.id);
    else if (msg.type === `${PREFIX}local`) {
      const c = collections.get(msg.id);
      if (!c || !c.expected.delete(worker)) return;
      c.answers.push(msg.metrics);
      if (c.expected.size === 0) c.finish();
    }
  });
  cluster.on('exit', (worker: Worker) => {
    ready.delete(worker);
    // A collection still waiting on a worker that died finishes without it.
    for (const c of collections.values()) if (c.expected.delete(worker) && c.expected.size === 0) c.finish();
  });
}
