// An OAuth 2.0 / OpenID provider (node-oidc-provider) for AnomalyZT's token-revocation tests: the client
// credentials grant, token revocation (RFC 7009) and token introspection (RFC 7662). State lives in memory only.
//
//   OIDC_WORKLOAD_SECRET=… OIDC_RESPONDER_SECRET=… node server.js --port 0
//
// Two confidential clients, both authenticating with client_secret_basic:
//   workload             gets access tokens with the client credentials grant (the tokens the engine revokes);
//   anomalyzt-responder  the connector's client: may revoke and introspect any token of this provider.
// Listens on 127.0.0.1 only and prints "listening 127.0.0.1:PORT" once it accepts connections (port 0 picks a
// free port); the issuer is http://127.0.0.1:PORT.
import { createServer } from "node:http";
import Provider from "oidc-provider";

function argument(name, fallback) {
    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const port = Number.parseInt(argument("port", process.env.OIDC_PORT ?? "0"), 10);
const workloadSecret = process.env.OIDC_WORKLOAD_SECRET ?? "";
const responderSecret = process.env.OIDC_RESPONDER_SECRET ?? "";
const responderId = "anomalyzt-responder";

if (workloadSecret.length === 0 || responderSecret.length === 0) {
    console.error("OIDC_WORKLOAD_SECRET and OIDC_RESPONDER_SECRET must be set");
    process.exit(2);
}

// The request handler is set once the port, and so the issuer, is known.
let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
};
const server = createServer((req, res) => handler(req, res));

server.listen(port, "127.0.0.1", () => {
    const { port: bound } = server.address();
    const issuer = `http://127.0.0.1:${bound}`;
    const provider = new Provider(issuer, {
        clients: [
            {
                client_id: "workload",
                client_secret: workloadSecret,
                grant_types: ["client_credentials"],
                response_types: [],
                redirect_uris: [],
                token_endpoint_auth_method: "client_secret_basic",
            },
            {
                client_id: responderId,
                client_secret: responderSecret,
                grant_types: ["client_credentials"],
                response_types: [],
                redirect_uris: [],
                token_endpoint_auth_method: "client_secret_basic",
            },
        ],
        scopes: ["openid", "api"],
        features: {
            devInteractions: { enabled: false },
            clientCredentials: { enabled: true },
            introspection: {
                enabled: true,
                // Confidential clients may introspect any token.
                allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== "none",
            },
            revocation: {
                enabled: true,
                // A client revokes its own tokens; the responder client revokes anyone's.
                allowedPolicy: async (_ctx, client, token) => client.clientId === responderId || token.clientId === client.clientId,
            },
        },
        ttl: { ClientCredentials: 3600 },
    });
    provider.proxy = false;
    handler = provider.callback();
    console.log(`listening 127.0.0.1:${bound}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => server.close(() => process.exit(0)));
}
