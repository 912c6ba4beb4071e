import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../../config/logger.js';
import { ClientError } from '../errors.js';
import { replyClientError } from './http-io.js';

/** Where `npm run build:web` writes the bell page. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The page: its script and styles only from here, sockets to here, no framing. */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

interface StaticFile {
  body: Buffer;
  gzipped: Buffer | undefined;
  contentType: string;
  cacheControl: string;
  etag: string;
  headers: Record<string, string>;
}

function load(path: string, cacheControl: string, headers: Record<string, string> = {}): StaticFile {
  const body = readFileSync(path);
  const contentType = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
  const compressible = /^(text\/|application\/json|image\/svg)/.test(contentType) && body.length > 1024;
  return {
    body,
    gzipped: compressible ? gzipSync(body) : undefined,
    contentType,
    cacheControl,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    headers,
  };
}

/**
 * The bell page, read once at start-up from `dir` (the output of `npm run build:web`):
 * `GET /` is `index.html` (revalidated on each visit), `GET /assets/*` the bundle and styles,
 * whose names carry a content hash (cached for a year). Without a build, `/` says how to make one.
 */
export function registerStaticRoutes(
  app: TemplatedApp,
  { dir = DEFAULT_WEB_DIR, logger }: { dir?: string; logger: Logger },
): void {
  const indexPath = join(dir, 'index.html');
  const index = existsSync(indexPath) ? load(indexPath, 'no-cache', PAGE_HEADERS) : undefined;
  const assets = new Map<string, StaticFile>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      assets.set(`/assets/${name}`, load(join(assetDir, name), 'public, max-age=31536000, immutable'));
    }
  }
  if (index) logger.info({ dir, assets: assets.size }, 'Serving the bell page');
  else logger.warn({ dir }, 'The bell page is not built (npm run build:web): / answers 404');

  app.get('/', (res, req) => {
    if (index) return send(res, req, index);
    notFound(res, 'The page is not built: run npm run build:web');
  });
  app.get('/assets/*', (res, req) => {
    // An exact lookup among the files read at start-up: no path ever reaches the file system.
    const file = assets.get(req.getUrl());
    if (file) return send(res, req, file);
    notFound(res, 'Not found');
  });
}

function send(res: HttpResponse, req: HttpRequest, file: StaticFile): void {
  const notModified = req.getHeader('if-none-match') === file.etag;
  const gzip = file.gzipped !== undefined && /\bgzip\b/.test(req.getHeader('accept-encoding'));
  res.cork(() => {
    res.writeStatus(notModified ? '304 Not Modified' : '200 OK');
    res.writeHeader('content-type', file.contentType);
    res.writeHeader('cache-control', file.cacheControl);
    res.writeHeader('etag', file.etag);
    res.writeHeader('x-content-type-options', 'nosniff');
    if (file.gzipped) res.writeHeader('vary', 'accept-encoding');
    for (const [name, value] of Object.entries(file.headers)) res.writeHeader(name, value);
    if (notModified) return void res.endWithoutBody();
    if (gzip) res.writeHeader('content-encoding', 'gzip');
    res.end(gzip ? file.gzipped! : file.body);
  });
}

function notFound(res: HttpResponse, message: string): void {
  replyClientError(res, new ClientError('not_found', message));
}
