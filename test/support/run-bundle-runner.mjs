// Runs one built handler the way the Lambda Node.js runtime does, in the process run-bundle.ts starts, and writes
// a report (result or error, CPU and wall time, the files the process loaded) to the path in the configuration.
// Usage: node run-bundle-runner.mjs <configuration.json>. Only Node.js builtins: nothing here may come from the
// repository, so everything the handler loads comes from its own asset folder.
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { isAbsolute, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const runner = fileURLToPath(import.meta.url);

// Every file the module loaders load, by the synchronous hooks (Node.js 22.15+), which see static and dynamic
// import() as well as require() of CommonJS, JSON and addons, in this thread.
const loadedFiles = new Map();
const outsideFiles = new Set();
if (typeof registerHooks !== 'function') {
  throw new Error(`module.registerHooks is missing: Node.js ${process.version} is too old to record the loaded files`);
}
registerHooks({
  load(url, context, nextLoad) {
    const loaded = nextLoad(url, context);
    if (url.startsWith('file:')) {
      const file = fileURLToPath(url);
      const inTask = relative(config.taskRoot, file);
      if (inTask && inTask !== '..' && !inTask.startsWith(`..${sep}`) && !isAbsolute(inTask)) {
        loadedFiles.set(inTask.split(sep).join('/'), statSync(file).size);
      } else if (file !== runner) {
        outsideFiles.add(file);
      }
    }
    return loaded;
  },
});

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

function describeError(error) {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) ?? String(error) };
}

let handler;
let error;
let result;
try {
  const handlerModule = config.entryIsModule
    ? await import(pathToFileURL(config.entry).href)
    : createRequire(import.meta.url)(config.entry);
  handler = handlerModule[config.exportName] ?? handlerModule.default?.[config.exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${config.handlerSetting} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
} catch (caught) {
  error = { ...describeError(caught), phase: 'init' };
}
const initCpuMs = cpuMs();
const initMs = performance.now();

if (!error) {
  const deadline = Date.now() + config.timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${config.region}:${config.accountId}:function:${config.functionName}`,
    memoryLimitInMB: String(config.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: config.logGroupName,
    logStreamName: config.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(
      new Error(`Task timed out after ${(config.timeoutMs / 1000).toFixed(2)} seconds`), { name: 'Sandbox.Timedout' })), config.timeoutMs);
  });
  try {
    result = await Promise.race([Promise.resolve().then(() => handler(config.event, context)), timedOut]);
  } catch (caught) {
    error = { ...describeError(caught), phase: 'invoke' };
  } finally {
    clearTimeout(timer);
  }
}

const cpuAtEnd = cpuMs();
const wallAtEnd = performance.now();
let answer;
if (!error && result !== undefined) {
  try {
    // As Lambda answers it: through JSON.
    answer = JSON.parse(JSON.stringify(result));
  } catch (caught) {
    error = { ...describeError(caught), phase: 'invoke' };
  }
}

const report = {
  result: answer,
  error,
  cpuMs: cpuAtEnd,
  wallMs: wallAtEnd,
  initCpuMs,
  initMs,
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  loadedFiles: [...loadedFiles].map(([path, bytes]) => ({ path, bytes })),
  outsideFiles: [...outsideFiles],
};
writeFileSync(config.reportPath, JSON.stringify(report));
// Lambda freezes the process once the handler settles: open sockets and timers do not keep it running.
process.exit(0);
