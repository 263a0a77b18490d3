// A SCIM 2.0 service provider (RFC 7643/7644) for AnomalyZT's connector tests, built on SCIMMY and
// SCIMMY Routers. Users live in memory only.
//
//   SCIM_TOKEN=secret node server.js --port 0 [--users alice,bob,carol]
//
// Listens on 127.0.0.1 only, serves /scim/v2, requires "Authorization: Bearer $SCIM_TOKEN" and prints
// "listening 127.0.0.1:PORT" once it accepts connections (port 0 picks a free port).
import { randomUUID } from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

function argument(name, fallback) {
    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const port = Number.parseInt(argument("port", process.env.SCIM_PORT ?? "0"), 10);
const token = process.env.SCIM_TOKEN ?? "";
const seed = argument("users", process.env.SCIM_USERS ?? "alice,bob,carol,dave").split(",").filter((u) => u.length > 0);

if (token.length === 0) {
    console.error("SCIM_TOKEN must be set");
    process.exit(2);
}

/** The users by id. */
const users = new Map();
for (const userName of seed) {
    const id = randomUUID();
    users.set(id, { id, userName, active: true, displayName: userName, name: { givenName: userName, familyName: "Test" } });
}

/** Keeps only the attributes this store knows from a schema instance or a request. */
function stored(id, instance) {
    return {
        id,
        userName: instance.userName,
        active: instance.active !== false,
        displayName: instance.displayName,
        name: instance.name ? { ...instance.name } : undefined,
    };
}

SCIMMY.Config.set({
    patch: { supported: true },
    filter: { supported: true, maxResults: 200 },
    sort: { supported: false },
    bulk: { supported: false },
    changePassword: { supported: false },
    etag: { supported: false },
});

SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .egress((resource) => {
        if (resource.id !== undefined) {
            const user = users.get(resource.id);
            if (user === undefined) {
                throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            }
            return { ...user };
        }
        const all = [...users.values()].map((u) => ({ ...u }));
        return resource.filter !== undefined ? resource.filter.match(all) : all;
    })
    .ingress((resource, instance) => {
        if (resource.id !== undefined) {
            if (!users.has(resource.id)) {
                throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            }
            const user = stored(resource.id, instance);
            users.set(resource.id, user);
            return { ...user };
        }
        if ([...users.values()].some((u) => u.userName === instance.userName)) {
            throw new SCIMMY.Types.Error(409, "uniqueness", `userName ${instance.userName} already exists`);
        }
        const id = randomUUID();
        const user = stored(id, instance);
        users.set(id, user);
        return { ...user };
    })
    .degress((resource) => {
        if (!users.delete(resource.id)) {
            throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        }
    });

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    docUri: "https://datatracker.ietf.org/doc/html/rfc6750",
    handler: (request) => {
        const header = request.header("Authorization") ?? "";
        if (header !== `Bearer ${token}`) {
            throw new Error("Bearer token missing or invalid");
        }
        return "anomalyzt-test";
    },
}));

const server = app.listen(port, "127.0.0.1", () => {
    const address = server.address();
    console.log(`listening 127.0.0.1:${address.port}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => server.close(() => process.exit(0)));
}
