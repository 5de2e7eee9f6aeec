// A SigV4-checking front for s3rver, which parses V4 signatures but does not
// check them. Every request's signature is computed again with AWS's own signer
// (@smithy/signature-v4, from the AWS SDK) from the one known key pair and
// compared, the body is checked against x-amz-content-sha256, and only then is
// the request passed on to s3rver. Mismatches get S3's own error answers.
//   node front.js LISTEN_PORT S3RVER_PORT KEY_ID SECRET [DELAY_MS]
// Each request is logged on stdout: METHOD HOST URL STATUS. DELAY_MS slows every
// GET answer down (for stopping the server in the middle of a restore).
'use strict';
const http = require('http');
const crypto = require('crypto');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

const [listen, upstream, keyId, secret, delay] = process.argv.slice(2);
const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

function deny(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

async function check(req, body) {
  const m = AUTH.exec(req.headers.authorization || '');
  if (!m) return ['AccessDenied', 'Anonymous access is forbidden for this bucket', 403];
  const [, id, , region, service, signedHeaders, signature] = m;
  if (id !== keyId) return ['InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403];
  const claimed = req.headers['x-amz-content-sha256'];
  if (!claimed) return ['InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400];
  if (claimed !== 'UNSIGNED-PAYLOAD' && claimed !== crypto.createHash('sha256').update(body).digest('hex'))
    return ['XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.', 400];
  const url = new URL(req.url, 'http://front');
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const headers = {};
  for (const h of signedHeaders.split(';')) headers[h] = req.headers[h];
  const d = (req.headers['x-amz-date'] || '').replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z');
  const signer = new SignatureV4({ credentials: { accessKeyId: keyId, secretAccessKey: secret },
    region, service, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign({ method: req.method, protocol: 'http:', hostname: req.headers.host,
    path: url.pathname, query, headers, body }, { signingDate: new Date(d) });
  const want = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  if (want !== signature)
    return ['SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', 403];
  return null;
}

http.createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(parts);
    let bad;
    try { bad = await check(req, body); } catch (e) { bad = ['InternalError', String(e), 500]; }
    if (delay && req.method === 'GET') await new Promise((r) => setTimeout(r, Number(delay)));
    res.on('finish', () => console.log(`${req.method} ${req.headers.host} ${req.url} ${res.statusCode}`));
    if (bad) return deny(res, bad[2], bad[0], bad[1]);
    const up = http.request({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url,
      headers: req.headers }, (ur) => { res.writeHead(ur.statusCode, ur.headers); ur.pipe(res); });
    up.on('error', () => deny(res, 503, 'ServiceUnavailable', 'backend down'));
    up.end(body);
  });
}).listen(Number(listen), '127.0.0.1');
