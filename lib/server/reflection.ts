/**
 * gRPC server reflection (grpc.reflection.v1, and v1alpha, which older grpcurl versions ask
 * first), so that `grpcurl list`, `buf curl --list-services` and calls by name work against a
 * running service with no schema on the caller's side.
 *
 * @module
 */
import { create, type DescFile, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
} from "@platform/proto/grpc/reflection/v1";
import {
  type ServerReflection as ServerReflectionV1alpha,
  type ServerReflectionRequest as ServerReflectionRequestV1alpha,
  ServerReflectionRequestSchema as ServerReflectionRequestSchemaV1alpha,
  ServerReflectionResponseSchema as ServerReflectionResponseSchemaV1alpha,
} from "@platform/proto/grpc/reflection/v1alpha";

/**
 * The reflection service for the given services (and every file they depend on).
 *
 * @example
 * ```ts ignore
 * router.service(ServerReflection, reflectionService([UserService, Health, ServerReflection]));
 * ```
 */
export function reflectionService(
  services: readonly DescService[],
): Partial<ServiceImpl<typeof ServerReflection>> {
  const files = new Map<string, DescFile>();
  const addFile = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    file.dependencies.forEach(addFile);
  };
  services.forEach((service) => addFile(service.file));
  const symbols = new Map<string, DescFile>();
  for (const file of files.values()) {
    const prefix = file.proto.package ? `${file.proto.package}.` : "";
    for (const service of file.services) {
      symbols.set(service.typeName, file);
      for (const method of service.methods) symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) symbols.set(message.typeName, file);
    for (const enumeration of file.enums) symbols.set(enumeration.typeName, file);
    for (const message of file.proto.messageType) symbols.set(prefix + message.name, file);
  }
  const encode = (file: DescFile): Uint8Array[] => {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const walk = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(walk);
    };
    walk(file);
    return out;
  };
  const answer = (request: ServerReflectionRequest) => {
    const base = { validHost: request.host, originalRequest: request };
    const notFound = (what: string) =>
      create(ServerReflectionResponseSchema, {
        ...base,
        messageResponse: {
          case: "errorResponse",
          value: { errorCode: 5, errorMessage: `${what} not found` },
        },
      });
    const fileResponse = (file: DescFile | undefined, what: string) =>
      file
        ? create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "fileDescriptorResponse",
            value: { fileDescriptorProto: encode(file) },
          },
        })
        : notFound(what);
    const req = request.messageRequest;
    switch (req.case) {
      case "listServices":
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "listServicesResponse",
            value: { service: services.map((s) => ({ name: s.typeName })) },
          },
        });
      case "fileByFilename":
        return fileResponse(files.get(req.value), `file ${req.value}`);
      case "fileContainingSymbol":
        return fileResponse(symbols.get(req.value), `symbol ${req.value}`);
      case "allExtensionNumbersOfType":
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: req.value, extensionNumber: [] },
          },
        });
      default:
        return notFound("extension");
    }
  };
  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield answer(request);
    },
  };
}

/**
 * The same answers under grpc.reflection.v1alpha (its messages are v1's, field for field).
 *
 * @example
 * ```ts ignore
 * router.service(ServerReflectionV1alpha, reflectionServiceV1alpha([UserService, Health]));
 * ```
 */
export function reflectionServiceV1alpha(
  services: readonly DescService[],
): Partial<ServiceImpl<typeof ServerReflectionV1alpha>> {
  const v1 = reflectionService(services);
  return {
    async *serverReflectionInfo(requests, context) {
      async function* asV1(source: AsyncIterable<ServerReflectionRequestV1alpha>) {
        for await (const request of source) {
          yield fromBinary(
            ServerReflectionRequestSchema,
            toBinary(ServerReflectionRequestSchemaV1alpha, request),
          );
        }
      }
      for await (const response of v1.serverReflectionInfo!(asV1(requests), context)) {
        yield fromBinary(
          ServerReflectionResponseSchemaV1alpha,
          toBinary(
            ServerReflectionResponseSchema,
            create(ServerReflectionResponseSchema, response),
          ),
        );
      }
    },
  };
}
