// Harness server for scripts/browser-check.sh: serves tests/browser/dist and
// index.html on 127.0.0.1, and answers the Lagwatch resources the editors call:
//   GET  /api/datasources/uid/<uid>/resources/services   canned/services.json
//   GET  /api/datasources/uid/<uid>/resources/check      canned/check.json
//   GET  /api/datasources/uid/<uid>/resources/discover   canned/discover.json for its
//        repo and chart; without repo or oci the Go handler's 400 error
//   POST /api/datasources/uid/<uid>/resources/validate   {"catalog": "<yaml>"}: one
//        canned error for `repo: ollama`, else valid with the `- name:` count
// The canned answers are the Go handlers' own output (canned/README.md).
// Prints "listening <port>" once ready. Exits by itself after
// LAGWATCH_HARNESS_TTL seconds (default 300) even if nobody stops it.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
// @grafana/ui's <Icon> loads its SVGs from public/build/img/icons/ (Grafana serves them); the package ships them.
const icons = path.resolve(here, '../../node_modules/@grafana/ui/dist/public/img/icons');
const ICON_PREFIX = '/public/build/img/icons/';
const ttlSeconds = Number(process.env.LAGWATCH_HARNESS_TTL || 300);
const port = Number(process.env.LAGWATCH_HARNESS_PORT || 0);

const canned = (name) => JSON.parse(readFileSync(path.join(here, 'canned', `${name}.json`), 'utf8'));
const SERVICES = canned('services');
const CHECK = canned('check');
const DISCOVER = canned('discover');
const DISCOVERED = DISCOVER.proposals[0].chart;

/**
 * GET /discover: the canned answer for its chart; the Go handler's error
 * without repo or oci. Other charts were not recorded: 404, saying so.
 */
function discover(params) {
  const repos = params.getAll('repo');
  if (repos.length === 0 && !params.get('oci')) {
    return [400, { error: 'discover: give repo=URL (and chart=NAME), oci=oci://HOST/PATH/NAME or prometheus=true' }];
  }
  if (repos.length === 1 && repos[0] === DISCOVERED.repository && params.get('chart') === DISCOVERED.name) {
    return [200, DISCOVER];
  }
  return [404, { error: `harness: only discover?repo=${DISCOVERED.repository}&chart=${DISCOVERED.name} is recorded` }];
}

/** The one error the backend reports for `repo: ollama` (not owner/name); anything else is valid. */
function validate(catalog) {
  if (/^\s*repo:\s*ollama\s*$/m.test(catalog)) {
    return {
      valid: false,
      services: 0,
      errors: [{ service: 'ollama', field: 'upstream.repo', line: 5, message: '"ollama" is not a GitHub owner/name' }],
    };
  }
  return { valid: true, services: (catalog.match(/^\s*-\s*name:/gm) || []).length, errors: [] };
}

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.ttf': 'font/ttf',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const resource = url.pathname.match(/^\/api\/datasources\/uid\/[^/]+\/resources\/(\w+)$/);
  try {
    if (resource && resource[1] === 'services' && req.method === 'GET') {
      return send(res, 200, SERVICES);
    }
    if (resource && resource[1] === 'check' && req.method === 'GET') {
      return send(res, 200, CHECK);
    }
    if (resource && resource[1] === 'discover' && req.method === 'GET') {
      return send(res, ...discover(url.searchParams));
    }
    if (resource && resource[1] === 'validate' && req.method === 'POST') {
      let body;
      try {
        body = JSON.parse(await readBody(req));
      } catch (err) {
        return send(res, 400, { error: `request body must be JSON {"catalog": "<yaml>"}: ${err.message}` });
      }
      return send(res, 200, validate(String(body?.catalog ?? '')));
    }
    if (resource) {
      return send(res, 404, { message: 'not found' });
    }
    const pathname = path.posix.normalize(decodeURIComponent(url.pathname));
    let file;
    if (pathname === '/' || pathname === '/index.html') {
      file = path.join(here, 'index.html');
    } else if (pathname.startsWith(ICON_PREFIX)) {
      file = path.join(icons, pathname.slice(ICON_PREFIX.length));
    } else {
      file = path.join(dist, pathname);
    }
    if (
      file !== path.join(here, 'index.html') &&
      !file.startsWith(dist + path.sep) &&
      !file.startsWith(icons + path.sep)
    ) {
      return send(res, 403, 'forbidden', 'text/plain');
    }
    return send(res, 200, await readFile(file), TYPES[path.extname(file)] || 'application/octet-stream');
  } catch {
    return send(res, 404, 'not found', 'text/plain');
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
setTimeout(() => {
  console.error(`harness server: ${ttlSeconds}s lifetime reached, exiting`);
  process.exit(0);
}, ttlSeconds * 1000).unref();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
