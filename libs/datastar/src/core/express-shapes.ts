import { IncomingMessage, ServerResponse } from 'node:http';

/** An Express app: the prototypes it gives every request and response. */
interface ExpressPrototypes {
  request: object;
  response: object;
}

/**
 * Makes Node create an Express app's requests and responses with the app's own prototypes
 * (`app.request`, `app.response`), so that Express's `Object.setPrototypeOf` on each of them finds
 * the prototype already in place and does nothing.
 *
 * Why: V8 does not share the hidden class of a property added after an object's prototype changed.
 * Express swaps both prototypes first thing, then it, its router and every middleware add
 * properties (`locals`, `baseUrl`, `params`, `body`...), so each request and response ends up with
 * a hidden class of its own: every property read in every function misses its inline cache, and
 * every write goes through the runtime (bench: dispatch, ours and the SDK in Nest alike; about half
 * of an Express request's CPU). Created with the prototype from the start, they share their shapes.
 *
 * Observable nowhere after Express's own init: same prototypes, same properties. Before it (a
 * `'request'` or `'upgrade'` listener of the server's own) a request already has Express's
 * methods. Returns false and changes nothing when the server or app is not what this expects
 * (Fastify, HTTP/2, classes of the app's own given to the server, a future Node).
 */
export function createWithExpressPrototypes(server: unknown, app: unknown): boolean {
  if (!isExpressApp(app) || typeof server !== 'object' || server === null) return false;
  // Node keeps the classes it instantiates per request on the server, under symbols of its own.
  const slots = Object.getOwnPropertySymbols(server) as (keyof typeof server)[];
  const requestSlot = slots.find((s) => (s as symbol).description === 'IncomingMessage' && server[s] === IncomingMessage);
  const responseSlot = slots.find((s) => (s as symbol).description === 'ServerResponse' && server[s] === ServerResponse);
  if (!requestSlot || !responseSlot) return false;
  if (!IncomingMessage.prototype.isPrototypeOf(app.request) || !ServerResponse.prototype.isPrototypeOf(app.response)) return false;

  const ExpressRequest = constructedWith(IncomingMessage, app.request);
  const ExpressResponse = constructedWith(ServerResponse, app.response);
  try {
    // Node's constructors are functions today; if one ever is a class, `apply` throws: stay out.
    new (ExpressResponse as any)(new (ExpressRequest as any)(null));
  } catch {
    return false;
  }
  (server as any)[requestSlot] = ExpressRequest;
  (server as any)[responseSlot] = ExpressResponse;
  return true;
}

/** Never true: see `constructedWith`. */
const SIZE_HINT = false as boolean;

/**
 * A constructor for `Base`'s objects with `prototype` as their prototype. A plain function calling
 * `Base` (not a subclass: a class's instances would get a prototype of their own in between);
 * `apply(this, arguments)`: whatever Node passes, with no array per call.
 */
function constructedWith(Base: Function, prototype: object): Function {
  function WithExpressPrototype(this: any) {
    Base.apply(this, arguments);
    // V8 sizes an object by the `this.x =` assignments in its constructor's source, not in the
    // constructors it calls. With none it would reserve 8 fields, and the 26 to 40 that Node's
    // constructors set (most with symbol keys) would make each one a dictionary object instead
    // (bench: fanout, 1.8 KiB more per open stream). This line is never run; it is the size.
    if (SIZE_HINT) this.p0 = this.p1 = this.p2 = this.p3 = this.p4 = this.p5 = this.p6 = this.p7 = this.p8 = this.p9 =
      this.q0 = this.q1 = this.q2 = this.q3 = this.q4 = this.q5 = this.q6 = this.q7 = this.q8 = this.q9 =
      this.r0 = this.r1 = this.r2 = this.r3 = this.r4 = this.r5 = this.r6 = this.r7 = this.r8 = this.r9 =
      this.s0 = this.s1 = this.s2 = this.s3 = this.s4 = this.s5 = this.s6 = this.s7 = this.s8 = this.s9 = undefined;
  }
  WithExpressPrototype.prototype = prototype;
  return WithExpressPrototype;
}

function isExpressApp(app: unknown): app is ExpressPrototypes {
  const candidate = app as Partial<ExpressPrototypes> | undefined;
  return typeof app === 'function' && typeof candidate?.request === 'object' && typeof candidate.response === 'object';
}
