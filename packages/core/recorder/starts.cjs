'use strict';
// Child processes and Workers: every start passes the child key on (in the environment of a child
// process, in the workerData of a Worker) and keeps the recorder among a child's preloads; the observe
// run notes each start; a denial that passes through is witnessed, and before 24 (where the app may
// catch it, or wrap it in an error of its own) reported as 'caught'.
const { isObject, read, keepShape } = require('./util.cjs');
const { ENV_KEY, DATA_KEY } = require('./transport.cjs');

const CHILD_APIS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'];

/** `ctx` (recorder.cjs): config, keys, self, audit, caughtByChannel, witness, reportError, used, wt. */
function watchStarts(ctx) {
  const { config } = ctx;
  const noteDenial = (err) => {
    ctx.witness(err);
    if (!ctx.caughtByChannel && isObject(err) && read(err, 'code') === 'ERR_ACCESS_DENIED') ctx.reportError(err, 'caught');
  };
  const cp = require('child_process');
  for (const name of CHILD_APIS) {
    const fn = cp[name];
    if (typeof fn !== 'function') continue;
    const wrapped = {
      [name](...args) {
        // The same key as CHILD_KEY in model/recorder-protocol.ts.
        if (config.observe) ctx.used('child', { t: 'use', scope: 'child', api: name, time: Date.now() });
        try {
          return fn.apply(this, withChildKey(args, name, ctx));
        } catch (err) {
          noteDenial(err);
          throw err;
        }
      },
    }[name];
    keepShape(wrapped, fn);
    try {
      cp[name] = wrapped;
    } catch {
      // read-only export: leave it
    }
  }
  const Original = ctx.wt.Worker;
  if (typeof Original === 'function') watchWorkers(Original, noteDenial, ctx);
}

/**
 * The arguments of a child_process call with the child key added to the environment the child gets
 * (the options object is copied, never changed). Every function takes (file, [args], [options], ...).
 */
function withChildKey(args, name, ctx) {
  try {
    const at = childOptionsAt(args, name);
    const given = args[at];
    const out = args.slice();
    if (isObject(given) && !Array.isArray(given)) {
      const env = isObject(given.env) ? given.env : process.env;
      out[at] = { ...given, env: withPreload({ ...env, [ENV_KEY]: ctx.keys.child }, ctx.self, ctx.audit) };
    } else if (given === undefined || given === null || typeof given === 'function') {
      const options = { env: withPreload({ ...process.env, [ENV_KEY]: ctx.keys.child }, ctx.self, ctx.audit) };
      if (given === undefined || given === null) out[at] = options;
      else out.splice(at, 0, options);
    }
    return out;
  } catch {
    return args; // options we cannot read: the child just reports nothing
  }
}

/**
 * A child's environment with the recorder (`self`) among NODE_OPTIONS' preloads. permlearn puts it
 * there for the app, and a child that inherits the environment keeps it; a child given an environment
 * of its own (`env: { PATH }`) would run without a recorder, and its denials (22+ passes the permission
 * flags on, the recorder's read grant included) would never reach permlearn.
 */
function withPreload(env, self, audit) {
  let current = typeof env.NODE_OPTIONS === 'string' ? env.NODE_OPTIONS : '';
  // In audit mode 24 passes nothing on to a spawned child (26 passes --permission-audit): the child
  // would run unwatched and its needs would wait for the enforce runs. It is audited like the app.
  if (audit && !/--permission-audit/.test(current)) current = ('--permission-audit ' + current).trim();
  if (!current.includes(self)) {
    const quoted = /[\s"\\]/.test(self) ? '"' + self.replace(/[\\"]/g, (c) => '\\' + c) + '"' : self;
    current = ('--require ' + quoted + ' ' + current).trim();
  }
  return current === env.NODE_OPTIONS ? env : { ...env, NODE_OPTIONS: current };
}

/**
 * Where a child_process call's options object sits. After an args array, or after an empty args slot
 * (`fork(script, undefined, { execArgv })`, as worker pools call it: Node skips a null args and
 * reads the options that follow, so putting the key in that slot would hide the app's own options,
 * its execArgv and env included). exec and execSync take no args array.
 */
function childOptionsAt(args, name) {
  if (Array.isArray(args[1])) return 2;
  if (name !== 'exec' && name !== 'execSync' && (args[1] === undefined || args[1] === null) && args.length > 2 && isObject(args[2])) return 2;
  return 1;
}

function watchWorkers(Original, noteDenial, ctx) {
  // The Worker's recorder takes the keys out of its workerData and gives the app its own back.
  const { keys } = ctx;
  const Worker = class Worker extends Original {
    constructor(filename, options, ...rest) {
      let given = options;
      try {
        const opts = isObject(options) ? options : {};
        // An execArgv of its own replaces the inherited flags, and without --permission among them Node
        // starts the Worker outside the permission model (20-26, measured): no grant binds it.
        const argv = read(opts, 'execArgv');
        if (Array.isArray(argv) && !argv.some((a) => a === '--permission' || a === '--experimental-permission')) {
          // The same key as UNBOUND_KEY in model/recorder-protocol.ts (the first start's call site, then counted).
          ctx.used('unbound', { t: 'unbound', api: 'Worker' });
        }
        given = { ...opts, workerData: { [DATA_KEY]: { token: keys.token, key: keys.key, child: keys.child }, data: opts.workerData } };
      } catch {
        // options we cannot read: the Worker reports nothing
      }
      try {
        super(filename, given, ...rest);
      } catch (err) {
        noteDenial(err);
        throw err;
      }
    }
  };
  try {
    ctx.wt.Worker = Worker;
  } catch {
    // read-only export: leave it
  }
}

module.exports = { watchStarts, withChildKey, withPreload, childOptionsAt };
