import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * Where a `.cpuprofile` (Node's `--cpu-prof`, see BENCH_WORKER_NODE_ARGS) spent its time, as text:
 * by package (or file of ours), then this repository's functions with the time spent in them and
 * below them. `--last-seconds S` keeps the last S seconds only (a herd's window, not its creation).
 *
 *   node --import tsx bench/cpu-profile-summary.ts /tmp/prof/CPU.*.cpuprofile --last-seconds 10
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'last-seconds': { type: 'string' }, top: { type: 'string', default: '20' } },
});
const lastMicros = values['last-seconds'] ? Number(values['last-seconds']) * 1e6 : Infinity;
const top = Number(values.top);
const repo = new URL('..', import.meta.url).href;

/** `node_modules/<package>`, a file of ours relative to the repository, or V8's own label. */
function placeOf({ url, functionName }: ProfileNode['callFrame']): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1]!;
  if (url.startsWith(repo)) return url.slice(repo.length);
  return url || functionName;
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const byPlace = new Map<string, number>();
  const ours = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, micros: number) =>
    map.set(key, (map.get(key) ?? 0) + micros);
  let at = profile.startTime;
  let total = 0;
  profile.samples.forEach((sample, index) => {
    at += profile.timeDeltas[index]!;
    // A sample's time is the gap to the next one.
    const micros = profile.timeDeltas[index + 1] ?? 0;
    if (profile.endTime - at > lastMicros) return;
    total += micros;
    add(byPlace, placeOf(nodes.get(sample)!.callFrame), micros);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parents.get(id)) {
      const frame = nodes.get(id)!.callFrame;
      if (!frame.url.startsWith(repo) || frame.url.includes('node_modules')) continue;
      const name = `${frame.functionName || '(anonymous)'} ${frame.url.slice(repo.length)}`;
      if (!seen.has(name)) add(ours, name, micros);
      seen.add(name);
    }
  });
  const lines = (map: Map<string, number>) =>
    [...map]
      .sort(([, a], [, b]) => b - a)
      .slice(0, top)
      .map(
        ([key, micros]) =>
          `${(micros / 1000).toFixed(0).padStart(8)} ms ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${key}`,
      );
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  console.log('  by package or file (self time):');
  for (const line of lines(byPlace)) console.log(`  ${line}`);
  console.log("  this repository's functions (with what they call):");
  for (const line of lines(ours)) console.log(`  ${line}`);
}
