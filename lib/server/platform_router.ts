/**
 * The Connect router every service registers its RPCs on, plus what the unary fast path needs
 * and connect-es's router does not expose: each unary method's implementation.
 *
 * Methods are registered one by one (`router.rpc`) so each gets JSON options of its own: a text
 * decoder that refuses lone surrogates and unknown enum names for that method's request type
 * (see `json_input.ts`), the same check the fast path runs.
 *
 * @module
 */
import type { DescMethod, DescMethodUnary, DescService } from "@bufbuild/protobuf";
import {
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
  createServiceImplSpec,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import { jsonInputCheck, validatingTextDecoder } from "./json_input.ts";

/** A unary method's implementation as connect-es calls it. */
export type UnaryImpl = (request: unknown, context: HandlerContext) => unknown;

/** One unary method the fast path may serve. */
export interface UnaryRoute {
  /** "/package.Service/Method" */
  readonly path: string;
  /** "package.Service/Method" */
  readonly procedure: string;
  readonly service: DescService;
  readonly method: DescMethodUnary;
  readonly impl: UnaryImpl;
  /** Throws a JsonInputError for JSON input the server refuses (see json_input.ts). */
  readonly checkJson: (text: string) => void;
}

/** The router and the unary routes registered on it. */
export interface PlatformRouter {
  /** Hand this to the service's `routes` callback; it registers on connect-es. */
  readonly router: ConnectRouter;
  /** Unary routes by request path. */
  readonly unary: ReadonlyMap<string, UnaryRoute>;
}

/**
 * Creates the router (Connect and gRPC-web, no native gRPC) with the given options.
 *
 * @example
 * ```ts ignore
 * const { router, unary } = createPlatformRouter({ readMaxBytes: 4 << 20 });
 * router.service(UserService, userHandlers(deps));
 * unary.get("/platform.users.v1.UserService/GetUser")?.method.name; // "GetUser"
 * ```
 */
export function createPlatformRouter(options: ConnectRouterOptions): PlatformRouter {
  const base = createConnectRouter({ ...options, connect: true, grpcWeb: true, grpc: false });
  const unary = new Map<string, UnaryRoute>();
  const register = (method: DescMethod, impl: UnaryImpl) => {
    // Per-method options replace the router's protocol choice: native gRPC stays off.
    base.rpc(method as DescMethodUnary, impl as never, {
      connect: true,
      grpcWeb: true,
      grpc: false,
      // connect-es reads `textDecoder` from the JSON options (not in their type).
      jsonOptions: {
        ...options.jsonOptions,
        textDecoder: validatingTextDecoder(method.input),
      } as ConnectRouterOptions["jsonOptions"],
    } as ConnectRouterOptions);
    if (method.methodKind === "unary") {
      const path = `/${method.parent.typeName}/${method.name}`;
      unary.set(path, {
        path,
        procedure: path.slice(1),
        service: method.parent,
        method: method as DescMethodUnary,
        impl,
        checkJson: jsonInputCheck(method.input),
      });
    }
  };
  const router: ConnectRouter = {
    get handlers() {
      return base.handlers;
    },
    service(service, implementation) {
      const spec = createServiceImplSpec(service, implementation as ServiceImpl<DescService>);
      for (const method of service.methods) {
        register(method, spec.methods[method.localName].impl as UnaryImpl);
      }
      return router;
    },
    rpc(method, impl) {
      register(method as DescMethod, impl as UnaryImpl);
      return router;
    },
  };
  return { router, unary };
}
