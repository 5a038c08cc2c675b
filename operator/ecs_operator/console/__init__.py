"""The ECS console: server-rendered pages over the ECS operations layer (`ecs_operator.ecsapi`), live.

Every page shows what the operations' Describe and List calls return and every button calls an operation,
so the console, `aws ecs` and `kubectl ecs` never disagree. Reads come from the operations layer's shared
watch caches, authorized per user before a page is rendered; writes are made with the user's own
credentials, so Kubernetes RBAC decides. Pages update themselves over Server-Sent Events fed by the same
caches (`live`), so open pages never poll the API server.

Modules: `command` (`ecs-operator console`), `app` (the app factory), `routes` (the one route table),
`pages` (how a page is loaded, rendered, streamed), `views/` (one module per page), `sessions` and
`signin` (who is signed in), `authz` (access reviews), `security` (CSRF and headers), `live` (the
broadcaster), `render` (templates and filters), `reads` (the operations calls pages share).
"""
