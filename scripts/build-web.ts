import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_WEB_OUT_DIR = resolve(root, 'web/dist');

/**
 * Bundles the bell page (`web/page/`) with esbuild into `outDir`: `index.html` and
 * `assets/` whose names carry a content hash, so the server may cache them for good.
 */
export async function buildWeb({
  outDir = DEFAULT_WEB_OUT_DIR,
  minify = true,
}: { outDir?: string; minify?: boolean } = {}): Promise<{ outDir: string; files: string[] }> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(resolve(outDir, 'assets'), { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'web/page/main.ts', styles: 'web/page/styles.css' },
    outdir: resolve(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome109', 'edge109', 'firefox115', 'safari16'],
    tsconfig: 'web/tsconfig.json',
    minify,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const assetOf = (entry: string): string => {
    const found = outputs.find(([, output]) => output.entryPoint === entry);
    if (!found) throw new Error(`esbuild produced nothing for ${entry}`);
    return `/assets/${basename(found[0])}`;
  };
  const template = await readFile(resolve(root, 'web/page/index.html'), 'utf8');
  const html = [
    ['./main.ts', assetOf('web/page/main.ts')],
    ['./styles.css', assetOf('web/page/styles.css')],
  ].reduce((text, [from, to]) => {
    if (!text.includes(`"${from}"`)) throw new Error(`web/page/index.html does not reference ${from}`);
    return text.replace(`"${from}"`, `"${to}"`);
  }, template);
  await writeFile(resolve(outDir, 'index.html'), html);
  return { outDir, files: ['index.html', ...outputs.map(([file]) => relative(outDir, resolve(root, file)))] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  const { outDir, files } = await buildWeb();
  console.log(
    `web: built ${files.length} files into ${relative(process.cwd(), outDir)} in ${Date.now() - started} ms`,
  );
}
