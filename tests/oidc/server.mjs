// A real OpenID Provider for the sign-in tests: the OpenID Certified `oidc-provider`
// (pinned in package.json and its lock), on loopback ports only.
//
//   node server.mjs  (settings from the environment)
//     OIDC_TEST_REDIRECT_URIS      space-separated redirect URIs of the console's client
//     OIDC_TEST_POST_LOGOUT_URIS   space-separated post-logout redirect URIs
//     OIDC_TEST_CLIENT_ID, OIDC_TEST_CLIENT_SECRET
//
// It prints one JSON line on stdout once both servers listen:
//   {"issuer": "http://127.0.0.1:<port>", "admin": "http://127.0.0.1:<port>"}
//
// The console's client uses the authorization code flow with PKCE (required here), gets a
// refresh token with every code, and may sign out at end_session_endpoint. Sign-in uses the
// library's development login page: any password, the login names a test user.
//
// The admin server (loopback, for the tests only) changes the provider at runtime:
//   PUT    /users/<login>  {"preferred_username", "email", "name", "groups"}  add or replace
//   DELETE /users/<login>  the user is gone: refresh tokens and sign-ins fail
//   PUT    /tamper         {"claims": {...}, "remove": [...], "unknown_key": true}
//                          every ID token the token endpoint issues from now on is re-signed
//                          with these claims changed (or by a key the provider never published)
//   DELETE /tamper         ID tokens as issued again
//   GET    /users          the users, as JSON
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const clientId = process.env.OIDC_TEST_CLIENT_ID || 'swr-console';
const clientSecret = process.env.OIDC_TEST_CLIENT_SECRET || 'swr-console-test-secret';
const words = (name) => (process.env[name] || '').split(/\s+/).filter(Boolean);

const users = new Map([
  ['alice', { preferred_username: 'alice', email: 'alice@example.com', name: 'Alice Liddell', groups: ['developers'] }],
  ['bob', { preferred_username: 'bob', email: 'bob@example.com', name: 'Bob Builder', groups: ['swr-admins'] }],
  ['carol', { preferred_username: 'carol', email: 'carol@example.com', name: 'Carol Danvers', groups: ['swr-auditors'] }],
]);
let tamper = null;

const signing = await jose.generateKeyPair('RS256', { extractable: true });
const stranger = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(signing.privateKey)), kid: 'test-key', use: 'sig', alg: 'RS256' };

function listen(server) {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

const providerServer = http.createServer();
const port = await listen(providerServer);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: words('OIDC_TEST_REDIRECT_URIS'),
    post_logout_redirect_uris: words('OIDC_TEST_POST_LOGOUT_URIS'),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingJwk] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'groups'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: { IdToken: 3600, AccessToken: 3600, RefreshToken: 86400, Session: 86400, Grant: 86400 },
  cookies: { keys: ['oidc-test-cookie-key'] },
  // A refresh token with every code, without offline_access and prompt=consent.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // The console is first-party: no consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'preferred_username', 'groups']);
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, id) {
    if (!users.has(id)) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        const user = users.get(id);
        if (!user) {
          return { sub: id };
        }
        return { sub: id, email_verified: true, ...user };
      },
    };
  },
});
provider.on('server_error', (_ctx, error) => console.error('server_error', error));

// Re-sign the token endpoint's ID token as the test asked.
provider.use(async (ctx, next) => {
  await next();
  if (!tamper || ctx.path !== '/token' || !ctx.body || typeof ctx.body !== 'object' || !ctx.body.id_token) {
    return;
  }
  const payload = { ...jose.decodeJwt(ctx.body.id_token), ...(tamper.claims || {}) };
  for (const name of tamper.remove || []) {
    delete payload[name];
  }
  const key = tamper.unknown_key ? stranger.privateKey : signing.privateKey;
  const kid = tamper.unknown_key ? 'unknown-key' : 'test-key';
  ctx.body = { ...ctx.body, id_token: await new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(key) };
});

providerServer.on('request', provider.callback());

function body(request) {
  return new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk) => { text += chunk; });
    request.on('end', () => {
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (error) {
        reject(error);
      }
    });
  });
}

const adminServer = http.createServer(async (request, response) => {
  const answer = (status, value) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(value));
  };
  try {
    const [, collection, name] = request.url.split('/');
    if (collection === 'users' && !name && request.method === 'GET') {
      return answer(200, Object.fromEntries(users));
    }
    if (collection === 'users' && name && request.method === 'PUT') {
      users.set(decodeURIComponent(name), await body(request));
      return answer(200, { ok: true });
    }
    if (collection === 'users' && name && request.method === 'DELETE') {
      users.delete(decodeURIComponent(name));
      return answer(200, { ok: true });
    }
    if (collection === 'tamper' && request.method === 'PUT') {
      tamper = await body(request);
      return answer(200, { ok: true });
    }
    if (collection === 'tamper' && request.method === 'DELETE') {
      tamper = null;
      return answer(200, { ok: true });
    }
    return answer(404, { error: 'not found' });
  } catch (error) {
    return answer(400, { error: String(error) });
  }
});
const adminPort = await listen(adminServer);

process.stdout.write(`${JSON.stringify({ issuer, admin: `http://127.0.0.1:${adminPort}` })}\n`);
process.on('SIGTERM', () => process.exit(0));
