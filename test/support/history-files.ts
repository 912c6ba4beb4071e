import { readFile, writeFile } from 'node:fs/promises';
import proto from '@temporalio/proto';

const { temporal } = proto;

/**
 * Workflow histories as readable JSON files. Written with @temporalio/proto's own object
 * conversion (the SDK's historyToJSON breaks on its nested protobufjs copy), read back the same way.
 */
const { History } = temporal.api.history.v1;

export async function writeHistoryFile(
  url: URL,
  history: proto.temporal.api.history.v1.IHistory,
): Promise<void> {
  const plain = History.toObject(History.fromObject(history), {
    longs: String,
    enums: String,
    bytes: String,
  });
  await writeFile(url, `${JSON.stringify(plain, null, 1)}\n`);
}

export async function readHistoryFile(url: URL): Promise<proto.temporal.api.history.v1.History> {
  return History.fromObject(JSON.parse(await readFile(url, 'utf8')));
}
