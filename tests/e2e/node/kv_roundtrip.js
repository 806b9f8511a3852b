#!/usr/bin/env node
// End-to-end check that the node-vault client (from the npm registry) works against Coffer the
// way an application would use it: TLS verified against the server's CA, KV v2 read/write,
// versions, list, delete, error statuses, and token creation.
//
// Environment: VAULT_ADDR (https://127.0.0.1:PORT), VAULT_TOKEN (a root token), VAULT_CACERT
// (PEM file of the CA that signed the server certificate). Started by test_node_vault.py.
//
// Exits 0 only when every check passed; otherwise prints each failed check and exits 1.

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');

const REQUEST_TIMEOUT_MS = 10000;

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`kv_roundtrip.js: environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const endpoint = requireEnv('VAULT_ADDR');
const rootToken = requireEnv('VAULT_TOKEN');
const caPath = requireEnv('VAULT_CACERT');
const ca = fs.readFileSync(caPath);

function makeClient(token, withCa = true) {
  const requestOptions = { timeout: REQUEST_TIMEOUT_MS };
  if (withCa) requestOptions.ca = ca;
  return require('node-vault')({ apiVersion: 'v1', endpoint, token, requestOptions });
}

// Awaits a promise that must reject with a Vault API error of the given HTTP status.
async function expectStatus(promise, status) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    const got = err && err.response ? err.response.statusCode : undefined;
    assert.equal(got, status, `expected HTTP ${status}, got error ${err && err.message} ` +
                              `(status ${got}, body ${JSON.stringify(err && err.response && err.response.body)})`);
    return err;
  }
  assert.fail(`expected a rejection with HTTP ${status}, got success: ${JSON.stringify(result)}`);
}

const results = [];

async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}`);
  } catch (err) {
    results.push({ name, ok: false });
    const http = err && err.response
      ? ` (HTTP ${err.response.statusCode}, body ${JSON.stringify(err.response.body)})`
      : '';
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}${http}`);
  }
}

async function main() {
  const vault = makeClient(rootToken);
  const path = 'secret/data/node/app';

  await check('health() reports an initialized, unsealed server', async () => {
    const health = await vault.health();
    assert.equal(health.initialized, true, JSON.stringify(health));
    assert.equal(health.sealed, false, JSON.stringify(health));
  });

  await check('a client without the CA refuses the server certificate', async () => {
    const untrusting = makeClient(rootToken, false);
    let err;
    try {
      await untrusting.health();
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'health() without the CA succeeded: TLS was not verified');
    assert.equal(err.response, undefined, `expected a TLS error, got HTTP error ${err.message}`);
    assert.match(String(err.code), /CERT|SIGNATURE|ISSUER/, `unexpected error ${err.code}: ${err.message}`);
  });

  await check('write() creates version 1', async () => {
    const res = await vault.write(path, { data: { user: 'u', pass: 'p' } });
    assert.equal(res.data.version, 1, JSON.stringify(res));
  });

  await check('read() returns the written data', async () => {
    const res = await vault.read(path);
    assert.deepEqual(res.data.data, { user: 'u', pass: 'p' });
    assert.equal(res.data.metadata.version, 1, JSON.stringify(res.data.metadata));
  });

  await check('a second write() makes version 2, read() returns it', async () => {
    const written = await vault.write(path, { data: { user: 'u2', pass: 'p2' } });
    assert.equal(written.data.version, 2, JSON.stringify(written));
    const res = await vault.read(path);
    assert.deepEqual(res.data.data, { user: 'u2', pass: 'p2' });
    assert.equal(res.data.metadata.version, 2, JSON.stringify(res.data.metadata));
  });

  await check('read() of ?version=1 still returns the first version', async () => {
    const res = await vault.read(`${path}?version=1`);
    assert.deepEqual(res.data.data, { user: 'u', pass: 'p' });
    assert.equal(res.data.metadata.version, 1, JSON.stringify(res.data.metadata));
  });

  await check('list() of secret/metadata/node contains app', async () => {
    const res = await vault.list('secret/metadata/node');
    assert.ok(Array.isArray(res.data.keys), JSON.stringify(res));
    assert.ok(res.data.keys.includes('app'), `keys: ${JSON.stringify(res.data.keys)}`);
  });

  await check('delete() of the metadata removes the secret (read rejects with 404)', async () => {
    await vault.delete('secret/metadata/node/app');
    await expectStatus(vault.read(path), 404);
  });

  await check('an invalid token is rejected with 403', async () => {
    const bad = makeClient('not-a-valid-token');
    await expectStatus(bad.read(path), 403);
  });

  await check('tokenCreate() returns a client token with the default policy', async () => {
    const creator = makeClient(rootToken);
    const res = await creator.tokenCreate({ policies: ['default'] });
    const token = res.auth && res.auth.client_token;
    assert.equal(typeof token, 'string', JSON.stringify(res));
    assert.ok(token.length > 0, JSON.stringify(res));
    assert.notEqual(token, rootToken);
    assert.ok(res.auth.policies.includes('default'), JSON.stringify(res.auth));
    // node-vault switches the client to the new token (tokenSource): check the server agrees.
    assert.equal(creator.token, token);
    const self = await creator.tokenLookupSelf();
    assert.equal(self.data.id, token, JSON.stringify(self.data));
    assert.ok(!self.data.policies.includes('root'), JSON.stringify(self.data.policies));
    // The default policy grants nothing under secret/.
    await expectStatus(creator.write(path, { data: { x: '1' } }), 403);
  });

  const failed = results.filter((r) => !r.ok);
  console.log(`node-vault: ${results.length - failed.length} passed, ${failed.length} failed`);
  for (const r of failed) console.log(`failed: ${r.name}`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`kv_roundtrip.js crashed: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
