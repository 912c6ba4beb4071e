import { writeFile } from 'node:fs/promises';
import { checkFileLimit, labelOf, params, scenarioOf } from './push-params.js';
import { cleanUp, log } from './push-processes.js';
import { connectionTable, gitDescription, pushTable, report, summarize, verdictOf } from './push-report.js';
import { benchServer, type ServerResult } from './push-rounds.js';
import { fmt } from './push-stats.js';
import { machineFacts, machineTable, renderSvg, writeMarkdown, type ChartSeries } from './report.js';
import { ignoreBrokenOutput, type ServerKind } from './shared.js';
import { sweepLeftovers } from './leftovers.js';

/**
 * `npm run bench`: the WebSocket push path of our server side by side with a `ws` server, a
 * Socket.IO server and a bare uWebSockets.js reference doing the same job (bench/README.md
 * explains the method). Every server and load generator is a child process; all of them, and
 * the database, are gone when this ends, whichever way it ends.
 */

ignoreBrokenOutput();

async function main(): Promise<void> {
  await sweepLeftovers();
  checkFileLimit();
  const started = Date.now();
  const codeAtStart = gitDescription();
  log(
    `${params.connections} connections, ${params.users} users, ${params.notifications} notifications per round ` +
      `(${params.warmupRounds} warm-up + ${params.rounds} measured per scenario), ` +
      `${params.clientProcesses} ${params.clientMode} client processes, servers: ${params.servers.join(', ')}`,
  );
  const results: ServerResult[] = [];
  for (const kind of params.servers as ServerKind[]) {
    if (cleanUp.started()) return;
    results.push(await benchServer(kind));
  }
  if (cleanUp.started()) return;

  const sections: string[] = [];
  const findings: string[] = [];
  /** frames/s per server, one bar per scenario: the chart beside the report. */
  const bars = new Map<string, ChartSeries>();
  for (const batch of params.batches) {
    const summaries = results.map((result) => summarize(result, batch));
    for (const summary of summaries.filter((one) => one.rounds > 0)) {
      const name = labelOf(summary.result.kind);
      if (!bars.has(name)) bars.set(name, { name, points: [] });
      bars.get(name)!.points.push([params.batches.indexOf(batch), summary.framesPerSecond]);
    }
    sections.push(`### ${scenarioOf(batch)}\n\n${pushTable(summaries)}\n\n${verdictOf(summaries)}`);
    const ratioOf = (kind: ServerKind): number => {
      const row = summaries.find((summary) => summary.result.kind === kind && summary.rounds > 0);
      const ws = summaries.find((summary) => summary.result.kind === 'ws' && summary.rounds > 0);
      return row && ws ? row.framesPerSecond / ws.framesPerSecond : NaN;
    };
    const ours = ratioOf('ours');
    const scenario = scenarioOf(batch).split(':')[0];
    const reference = ratioOf('uws');
    findings.push(
      `${scenario}: **${ours >= 3 ? 'met' : 'NOT met'}**, ours ${fmt(ours, 2)}× ws` +
        (Number.isFinite(reference) ? ` (the bare uWebSockets.js reference ${fmt(reference, 2)}×)` : ''),
    );
  }
  const summary = `3× target, throughput relative to \`ws\` at ${params.connections.toLocaleString('en-US')} connections: ${findings.join('; ')}.`;
  const connections = `### Connections and memory\n\n${connectionTable(results)}`;
  console.log(`\n${sections.join('\n\n')}\n\n${connections}\n\n${summary.replaceAll('**', '')}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  if (params.output !== '-') {
    const codeAtEnd = gitDescription();
    const markdown = report({
      code:
        codeAtEnd === codeAtStart
          ? codeAtEnd
          : `**changed during the run**: ${codeAtStart} at the start, ${codeAtEnd} at the end`,
      machine: machineTable(await machineFacts()),
      summary,
      results: `${sections.join('\n\n')}\n\n${connections}`,
      failures: results
        .filter((result) => result.error)
        .map((result) => `- ${labelOf(result.kind)}: ${result.error}`)
        .join('\n'),
      durationSeconds: (Date.now() - started) / 1000,
      chart: params.output.replace(/\.md$/, '.svg').split('/').pop()!,
    });
    await writeMarkdown(params.output, markdown);
    await writeFile(
      params.output.replace(/\.md$/, '.svg'),
      renderSvg({
        title: `Frames per second at ${params.connections.toLocaleString('en-US')} connections (median of the measured rounds)`,
        xLabel: params.batches
          .map((batch, index) => `${index}: ${scenarioOf(batch).split(':')[0]}`)
          .join(', '),
        yLabel: 'frames/s',
        kind: 'bar',
        series: [...bars.values()],
      }),
    );
    log(`wrote ${params.output} and its chart`);
  }
  if (results.some((result) => result.error)) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp.cleanUp();
}
