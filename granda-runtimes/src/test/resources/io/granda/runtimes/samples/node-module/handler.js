// The module-style sample the shim tests run: each path exercises one part of the convention (docs/runtimes.md).
globalThis.imports = (globalThis.imports || 0) + 1; // the shim loads the module once

function compact(value) {
  const sorted = (v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])])) : v);
  return JSON.stringify(sorted(value));
}

module.exports = async (request) => {
  const path = request.path;
  if (path.startsWith('/echo')) {
    return {
      status: 200,
      headers: {
        'Content-Type': 'application/octet-stream', 'X-Method': request.method, 'X-Path': path,
        'X-Raw-Path': request.rawPath, 'X-Raw-Query': request.rawQuery,
        'X-Query': compact(request.query), 'X-Query-All': compact(request.queryAll),
        'X-Test': 'X-Test' in request.headers ? request.headers['x-TEST'] : 'none',
        'X-Timeout': request.headers['Granda-Timeout-Ms'] || 'none',
      },
      body: request.body,
    };
  }
  switch (path) {
    case '/text': return `héllo ${request.text}`;
    case '/bytes': return Buffer.from([0, 1, 2]);
    case '/json': return { got: request.json() };
    case '/list': return [1, 2];
    case '/none': return undefined;
    case '/status': return { status: 418, body: 'teapot' };
    case '/headers':
      return { status: 201, headers: { 'Set-Cookie': ['a=1', 'b=2'], 'Content-Type': 'text/csv' }, body: 'x,y' };
    case '/fail': throw new Error('boom from the handler');
    case '/bad': return () => 'a function is no answer';
    case '/async': return new Promise((resolve) => setTimeout(() => resolve('later'), 10));
    case '/imports': return String(globalThis.imports);
    default: return 'hello';
  }
};
