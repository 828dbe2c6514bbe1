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

  // Plain functions calling Node's constructors (not subclasses: a class's instances would get a
  // prototype of its own in between). `apply(this, arguments)`: whatever Node passes, no array.
  function ExpressRequest(this: IncomingMessage) {
    IncomingMessage.apply(this, arguments as any);
  }
  function ExpressResponse(this: ServerResponse) {
    ServerResponse.apply(this, arguments as any);
  }
  ExpressRequest.prototype = app.request;
  ExpressResponse.prototype = app.response;
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

function isExpressApp(app: unknown): app is ExpressPrototypes {
  const candidate = app as Partial<ExpressPrototypes> | undefined;
  return typeof app === 'function' && typeof candidate?.request === 'object' && typeof candidate.response === 'object';
}
