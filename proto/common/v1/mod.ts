/**
 * Types shared by the platform's APIs (`platform.common.v1`): `Money`, an amount in the currency's
 * minor unit.
 *
 * Re-exports everything generated from `proto/platform/common/v1/money.proto` (by `deno task gen`;
 * never edit proto/gen by hand): a `type` and a `...Schema` for each message, a TypeScript `enum`
 * and a `...Schema` for each enum, plus the @bufbuild/protobuf types they are declared with.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { MoneySchema } from "@platform/proto/common/v1";
 *
 * const rate = create(MoneySchema, { currency: "USD", amountMinor: 1500n }); // $15.00
 * console.log(rate.currency, rate.amountMinor);
 * ```
 *
 * @module
 */
export * from "../../gen/platform/common/v1/money_pb.ts";
export type * from "../../protobuf_types.ts";
