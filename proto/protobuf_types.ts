/**
 * The @bufbuild/protobuf types that the generated messages, enums and services of this package are
 * declared with, re-exported by every entry point so that a consumer can name them (and
 * `deno doc --lint` sees them as public) without importing @bufbuild/protobuf itself.
 *
 * @module
 */
export type { GenEnum, GenFile, GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
export type { Message } from "@bufbuild/protobuf";
export type { Timestamp } from "@bufbuild/protobuf/wkt";
