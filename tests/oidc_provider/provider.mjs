// A real OpenID provider for the sign-in tests: oidc-provider (the OpenID-certified Node provider) on
// 127.0.0.1 with its development sign-in pages, where any login name signs in as that person.
// Usage: node provider.mjs CLIENTS_JSON [ISSUER]; prints one JSON line {"issuer", "port"} once it listens.
// ISSUER, when given, is the URL it is known by (a proxy in front of it, as the tests' tampering proxy).
// Each person's claims: sub and preferred_username are the login name; people whose name starts with
// "admin" are in the group "pixl-admins", everyone else in "family".
import http from 'node:http';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.argv[2] || '[]');
const givenIssuer = process.argv[3];
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = givenIssuer || `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients,
    cookies: { keys: ['pixlstash-tests-only-cookie-key'] },
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            preferred_username: id,
            name: id,
            email: `${id}@example.test`,
            email_verified: true,
            groups: id.startsWith('admin') ? ['pixl-admins'] : ['family'],
          };
        },
      };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
