// Runs Amazon States Language definitions in aws-local-stepfunctions and
// prints what happened, so that a Go test can compare it with the local
// cloud's engine. One process serves a whole batch: starting Node with the
// interpreter takes most of a second.
//
// stdin:  [{"definition": {...}, "input": <json>, "handlers": {<resource ARN>: [rule, ...]}}, ...]
// stdout: [{"status": "SUCCEEDED"|"FAILED", "output": <json>, "error": "...", "cause": "...",
//           "entered": [{"name": "...", "index": <map iteration or null>}]}, ...]
//
// A rule is {"attempts": [n, ...]?, "when": {"path": "$.x", "equals": <json>}?,
//            and one of "output": <json> | "echo": true | "merge": {...} | "error": "...", "cause": "..."}.
// The first rule whose attempts (1-based calls of that resource in the
// execution) and when both match decides the call. A function error is
// thrown the way Step Functions reports a Lambda function error: the error
// name is the errorType and the cause is the JSON error document.
//
// Wait states and retry intervals are overridden to 0 ms: this interpreter
// sleeps on the wall clock, and timing is checked by the Go engine's own
// tests on the simulated clock.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The interpreter comes from the project's pinned npm packages (test/node),
// whose folder the Go test passes in PHOENIX_NODE_DIR.
const nodeDir = process.env.PHOENIX_NODE_DIR;
if (!nodeDir) {
  throw new Error('PHOENIX_NODE_DIR must name the folder holding node_modules/aws-local-stepfunctions');
}
const require = createRequire(join(nodeDir, 'package.json'));
const { StateMachine } = await import(pathToFileURL(require.resolve('aws-local-stepfunctions')).href);

function readStdin() {
  return new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (data += chunk));
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', reject);
  });
}

// pathGet reads a simple dotted path ($.a.b[0]) from a value.
function pathGet(value, path) {
  const parts = path.replace(/^\$/, '').split(/\.|\[|\]/).filter((p) => p !== '');
  let v = value;
  for (const p of parts) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Array.isArray(v) ? v[Number(p)] : v[p];
  }
  return v;
}

function sameJSON(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJSON(a[k], b[k]));
}

// taskStates maps every Task state name, at any depth, to its resource.
function taskStates(def, out = {}) {
  for (const [name, st] of Object.entries(def.States ?? {})) {
    if (st.Type === 'Task') out[name] = st.Resource;
    for (const b of st.Branches ?? []) taskStates(b, out);
    if (st.ItemProcessor) taskStates(st.ItemProcessor, out);
    if (st.Iterator) taskStates(st.Iterator, out);
  }
  return out;
}

function statesOfType(def, pred, out = []) {
  for (const [name, st] of Object.entries(def.States ?? {})) {
    if (pred(st)) out.push(name);
    for (const b of st.Branches ?? []) statesOfType(b, pred, out);
    if (st.ItemProcessor) statesOfType(st.ItemProcessor, pred, out);
    if (st.Iterator) statesOfType(st.Iterator, pred, out);
  }
  return out;
}

// Building a StateMachine validates the definition, which takes a good part
// of a second; runs of one definition share it (executions are independent).
const machines = new Map();
function machineFor(definition) {
  const key = JSON.stringify(definition);
  if (!machines.has(key)) {
    machines.set(key, new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } }));
  }
  return machines.get(key);
}

async function runOne(req) {
  const { definition, input, handlers } = req;
  const calls = {};
  const taskHandlers = {};
  for (const [stateName, resource] of Object.entries(taskStates(definition))) {
    taskHandlers[stateName] = async (taskInput) => {
      calls[resource] = (calls[resource] ?? 0) + 1;
      const n = calls[resource];
      for (const rule of handlers[resource] ?? []) {
        if (rule.attempts && !rule.attempts.includes(n)) continue;
        if (rule.when && !sameJSON(pathGet(taskInput, rule.when.path), rule.when.equals)) continue;
        if (rule.error !== undefined) {
          const err = new Error(JSON.stringify({ errorMessage: rule.cause ?? '', errorType: rule.error }));
          err.name = rule.error;
          throw err;
        }
        if (rule.echo) return taskInput;
        if (rule.merge) return { ...taskInput, ...rule.merge };
        return rule.output;
      }
      throw new Error(`no handler rule for ${resource} call ${n}`);
    };
  }
  const waitOverrides = Object.fromEntries(statesOfType(definition, (st) => st.Type === 'Wait').map((n) => [n, 0]));
  const retryOverrides = Object.fromEntries(statesOfType(definition, (st) => Array.isArray(st.Retry)).map((n) => [n, 0]));

  const machine = machineFor(definition);
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: taskHandlers, waitTimeOverrides: waitOverrides, retryIntervalOverrides: retryOverrides },
  });
  const entered = [];
  const logs = (async () => {
    for await (const ev of execution.eventLogs) {
      if (ev.type === 'StateEntered') entered.push({ name: ev.state.name, index: ev.index ?? null });
    }
  })();
  const result = { entered };
  try {
    result.output = await execution.result;
    result.status = 'SUCCEEDED';
  } catch (e) {
    const cause = e.cause ?? e;
    result.status = 'FAILED';
    result.error = cause.name;
    result.cause = typeof cause.message === 'string' ? cause.message : JSON.stringify(cause.message);
  }
  await logs;
  // Let forwarded events of nested iterations and branches drain.
  await new Promise((resolve) => setTimeout(resolve, 10));
  return result;
}

async function main() {
  const batch = JSON.parse(await readStdin());
  const results = [];
  for (const req of batch) {
    try {
      results.push(await runOne(req));
    } catch (e) {
      // A definition the interpreter refuses is reported, not fatal to the batch.
      results.push({ status: 'REFUSED', error: String(e?.message ?? e), entered: [] });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(2);
});
