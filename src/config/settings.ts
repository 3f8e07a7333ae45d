/**
 * Every environment variable Twelve reads, with one line of documentation and an example:
 * what `twelve init` writes to .env.example. test/settings.test.ts keeps it complete: every
 * variable of env.ts's schema and every TWELVE_* name in src/ must be listed here.
 */

export interface Setting {
  name: string;
  /** What it does, one line (shown as a comment above it). */
  doc: string;
  /** A value to show; the default when there is one. */
  example: string;
}

export interface SettingGroup {
  title: string;
  settings: Setting[];
}

const s = (name: string, doc: string, example = ''): Setting => ({ name, doc, example });

export const settingGroups: readonly SettingGroup[] = [
  {
    title: 'Store and models',
    settings: [
      s('TWELVE_DATABASE_URL', 'sqlite:<file> (default .twelve/twelve.db; ?synchronous=full fsyncs every commit), or postgres://user:pass@host:5432/db (?schema=name)', 'sqlite:.twelve/twelve.db'),
      s('TWELVE_MODEL_MODE', 'live (default): call providers; record: call them and store each response; replay: answer from recordings, offline', 'live'),
      s('TWELVE_RECORDINGS_DIR', "where recordings live (default: the agent's recordings directory, else .twelve/recordings)"),
      s('OPENAI_API_KEY', 'the openai: provider (chat completions API)', 'sk-...'),
      s('OPENAI_BASE_URL', 'another OpenAI endpoint (a proxy, Azure-style gateway)'),
      s('TWELVE_OPENAI_PROMPT_CACHE_KEY', "send OpenAI's prompt_cache_key (one per thread): auto (default: only to api.openai.com, as a gateway may refuse the field), on, off"),
      s('ANTHROPIC_API_KEY', 'the anthropic: provider', 'sk-ant-...'),
      s('ANTHROPIC_BASE_URL', 'another Anthropic endpoint'),
      s('TWELVE_OPENAI_COMPATIBLE_BASE_URL', "openai-compatible:<model>: the server's /v1 URL (Ollama, vLLM, llama.cpp server)", 'http://127.0.0.1:11434/v1'),
      s('TWELVE_OPENAI_COMPATIBLE_API_KEY', 'openai-compatible:<model>: its key, if it wants one'),
      s('TWELVE_MODEL_PRICES', 'JSON price overrides, USD per million tokens of input, output and optionally cachedInput / cacheWrite (prompt cache reads / writes); required for models without a built-in price when an agent has a cost limit', '{"openai:gpt-4o-2024-08-06":{"input":2.5,"output":10,"cachedInput":1.25}}'),
      s('TWELVE_EVAL_JUDGE_MODEL', "the LLM judge of eval suites that name none (a pinned provider:model id)"),
    ],
  },
  {
    title: 'Agents (per agent: TWELVE_AGENT_<NAME>_<SETTING>, e.g. TWELVE_AGENT_SUPPORT_MAX_STEPS=6)',
    settings: [
      s('TWELVE_AGENT_<NAME>_<SETTING>', 'MODEL, FALLBACK_MODELS, TEMPERATURE, MAX_OUTPUT_TOKENS, TIMEOUT_MS, MAX_RETRIES, MAX_STEPS, MAX_TOKENS, MAX_COST_USD, MAX_CONSECUTIVE_ERRORS'),
      s('TWELVE_AGENT_<NAME>_APPROVAL_<TOOL>', 'always: force approval of one tool of one agent (can only tighten)'),
      s('TWELVE_AGENT_<NAME>_DAILY_COST_USD', "the agent's spend cap per UTC day, shared by every process"),
      s('TWELVE_AGENT_<NAME>_MAX_CONCURRENCY', "most threads of the agent running at once across the fleet"),
      s('TWELVE_AGENT_<NAME>_CACHE', 'provider prompt caching for the agent: auto (default: Anthropic cache breakpoints, an OpenAI cache key) or off'),
      s('TWELVE_TOOL_<NAME>', 'the implementation a tool runs in this environment (live, fake, or one it declares; e.g. TWELVE_TOOL_LOOKUP_ORDER=sandbox)'),
      s('TWELVE_AGENT_<NAME>_MAX_BUDGET_RAISE_USD', 'the highest cost limit twelve budget may give one of its threads'),
      s('TWELVE_MAX_CONSECUTIVE_ERRORS', 'default for every agent: errors in a row before a thread escalates to a person', '3'),
      s('TWELVE_MAX_BUDGET_RAISE_USD', 'the highest cost limit twelve budget may give a thread (unset: no cap)'),
      s('TWELVE_REQUIRE_LOCK', '1: refuse to start when the code differs from twelve.lock.json (default on with NODE_ENV=production; 0 turns it off)'),
      s('NODE_ENV', 'production turns TWELVE_REQUIRE_LOCK on'),
    ],
  },
  {
    title: 'Costs and tenants',
    settings: [
      s('TWELVE_TENANT_KEY', "the launch metadata key that names a thread's tenant (e.g. customer)"),
      s('TWELVE_TENANT_DAILY_COST_USD', "every tenant's spend cap per UTC day (needs TWELVE_TENANT_KEY)"),
      s('TWELVE_TENANT_CAPS', 'per-tenant daily caps, overriding the default', 'acme=5;globex=20'),
    ],
  },
  {
    title: 'People and notifications',
    settings: [
      s('TWELVE_HUMANS', 'people and their roles, for approval policies', 'alice=finance,approver;bob=support'),
      s('TWELVE_USER', 'who you are on the command line (approve, answer, resume...; default $USER)'),
      s('TWELVE_NOTIFY_URL', 'webhook posted when a thread waits for a person (with TWELVE_NOTIFY_SECRET)'),
      s('TWELVE_NOTIFY_SECRET', 'signs every webhook delivery (HMAC; at least 16 characters)'),
    ],
  },
  {
    title: 'Workers',
    settings: [
      s('TWELVE_WORKER_CONCURRENCY', 'threads one worker process runs at once', '4'),
      s('TWELVE_POLL_MS', 'how often an idle worker looks for work (PostgreSQL also wakes it at once)', '1000'),
      s('TWELVE_SHUTDOWN_GRACE_MS', 'how long a stopping worker lets the steps in flight finish', '30000'),
      s('TWELVE_LEASE_MS', 'how long a claimed thread stays claimed without renewal', '30000'),
      s('TWELVE_MAX_PAYLOAD_BYTES', 'tool results above this are stored once as a blob, the model seeing a preview', '262144'),
    ],
  },
  {
    title: 'Server (twelve serve, twelve dev) and remote CLI',
    settings: [
      s('PORT', 'the HTTP port (default: 8080 for twelve serve, 4120 for twelve dev)', '8080'),
      s('TWELVE_HOST', 'the address to listen on', '127.0.0.1'),
      s('TWELVE_API_KEYS', 'API keys and their roles: name=role,role=key;... (twelve dev on loopback makes one when unset)'),
      s('TWELVE_HOOK_SECRETS', 'secrets of the inbound webhooks, per agent (agent=secret;..., at least 16 characters each)'),
      s('TWELVE_HOOK_CALLBACK_URLS', 'URL prefixes webhook results may be posted to', 'https://ci.example.com/hooks/'),
      s('TWELVE_HTTP_MAX_CONNECTIONS', 'open connections at most', '1000'),
      s('TWELVE_HTTP_MAX_STREAMS_PER_KEY', 'event streams (SSE) at most per API key', '20'),
      s('TWELVE_HTTP_HEADERS_TIMEOUT_MS', 'time to receive request headers', '10000'),
      s('TWELVE_HTTP_REQUEST_TIMEOUT_MS', 'time to receive a whole request', '30000'),
      s('TWELVE_URL', 'the CLI works against this Twelve server instead of the local store'),
      s('TWELVE_API_KEY', 'the API key the CLI sends to TWELVE_URL'),
      s('TWELVE_CONFIG', 'the project config file (default: twelve.config.ts found from the working directory up)'),
      s('TWELVE_NATS_URL', 'twelve consume nats: the NATS server', 'nats://127.0.0.1:4222'),
    ],
  },
  {
    title: 'Logs, redaction, audit, traces',
    settings: [
      s('TWELVE_LOG', 'text (default): warnings and errors on stderr; json: pino lines, every event too; off', 'text'),
      s('TWELVE_LOG_LEVEL', 'trace, debug, info, warn or error (default warn for text, info for json)'),
      s('TWELVE_DEBUG', '1: print the stack of an internal error on the command line'),
      s('TWELVE_REDACT_PATTERNS', 'redact from logs, traces, exports and views: email, card, phone and /regex/flags, comma-separated', 'email,card'),
      s('TWELVE_AUDIT_SIGNING_KEY', "Ed25519 private key (PEM or base64 PKCS#8) that signs the audit chain's heads"),
      s('TWELVE_AUDIT_PUBLIC_KEY', 'the matching public key (PEM or base64 SPKI), to check them'),
      s('TWELVE_AUDIT_SIGN_EVERY', 'sign every N events (and when a thread finishes)', '100'),
      s('TWELVE_TRACE_CONTENT', '1: message content, redacted, on model and tool spans'),
      s('OTEL_EXPORTER_OTLP_ENDPOINT', 'OpenTelemetry traces go to this OTLP/HTTP collector (off when unset)', 'http://127.0.0.1:4318'),
      s('OTEL_SERVICE_NAME', 'the service name on the spans', 'twelve'),
      s('OTEL_TRACES_SAMPLER', 'sampling, e.g. parentbased_traceidratio (with OTEL_TRACES_SAMPLER_ARG=0.1)'),
    ],
  },
];

/** Every setting's name, including the TWELVE_AGENT_<NAME>_ patterns. */
export const settingNames: readonly string[] = settingGroups.flatMap((group) => group.settings.map((setting) => setting.name));

/** The .env.example text: every setting commented out (so defaults apply), a comment above each. */
export function renderEnvExample(header: string): string {
  const lines = header.split('\n').map((line) => `# ${line}`.trimEnd());
  for (const group of settingGroups) {
    lines.push('', '', `## ${group.title}`);
    for (const setting of group.settings) lines.push('', `# ${setting.doc}`, `# ${setting.name}=${setting.example}`);
  }
  return `${lines.join('\n')}\n`;
}
