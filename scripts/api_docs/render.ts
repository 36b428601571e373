/**
 * The API reference (docs/api.md) from the protobuf descriptors with their source comments (`buf
 * build`'s image): every service with its methods, then every message and enum with its fields
 * and values, each with the comment written above it in proto/. Pure: descriptors in, Markdown
 * out.
 *
 * @module
 */
import { isFieldSet } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";

/** Where each service is served (README's "Services"). */
export const SERVICE_PORTS: Record<string, number> = {
  "platform.users.v1.UserService": 50051,
  "platform.tasks.v1.TaskService": 50052,
  "platform.orchestrator.v1.OrchestratorService": 50053,
  "platform.notifications.v1.NotificationService": 50053,
};

const SCALARS: Partial<Record<FieldDescriptorProto_Type, string>> = {
  [FieldDescriptorProto_Type.DOUBLE]: "double",
  [FieldDescriptorProto_Type.FLOAT]: "float",
  [FieldDescriptorProto_Type.INT64]: "int64",
  [FieldDescriptorProto_Type.UINT64]: "uint64",
  [FieldDescriptorProto_Type.INT32]: "int32",
  [FieldDescriptorProto_Type.FIXED64]: "fixed64",
  [FieldDescriptorProto_Type.FIXED32]: "fixed32",
  [FieldDescriptorProto_Type.BOOL]: "bool",
  [FieldDescriptorProto_Type.STRING]: "string",
  [FieldDescriptorProto_Type.BYTES]: "bytes",
  [FieldDescriptorProto_Type.UINT32]: "uint32",
  [FieldDescriptorProto_Type.SFIXED32]: "sfixed32",
  [FieldDescriptorProto_Type.SFIXED64]: "sfixed64",
  [FieldDescriptorProto_Type.SINT32]: "sint32",
  [FieldDescriptorProto_Type.SINT64]: "sint64",
};

/** The comment above each element of a file, by its descriptor path ("4,0,2,1"). */
function commentsOf(file: FileDescriptorProto): Map<string, string> {
  const comments = new Map<string, string>();
  for (const location of file.sourceCodeInfo?.location ?? []) {
    const text = (location.leadingComments || location.trailingComments || "").trim();
    if (text) comments.set(location.path.join(","), text.replace(/\s*\n\s*/g, " "));
  }
  return comments;
}

/** A Markdown anchor for a fully qualified name. */
function anchor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function typeLink(typeName: string, documented: Set<string>): string {
  const name = typeName.replace(/^\./, "");
  return documented.has(name) ? `[\`${name}\`](#${anchor(name)})` : `\`${name}\``;
}

function fieldType(
  field: FieldDescriptorProto,
  message: DescriptorProto,
  documented: Set<string>,
): string {
  const nested = message.nestedType.find((n) =>
    field.typeName.endsWith(`.${message.name}.${n.name}`)
  );
  if (nested?.options?.mapEntry) {
    const [key, value] = nested.field;
    return `map<${fieldType(key, nested, documented)}, ${fieldType(value, nested, documented)}>`;
  }
  const base = SCALARS[field.type] ?? typeLink(field.typeName, documented);
  const shown = base.startsWith("[") || base.startsWith("`") ? base : `\`${base}\``;
  if (field.label === FieldDescriptorProto_Label.REPEATED) return `repeated ${shown}`;
  if (field.proto3Optional) return `optional ${shown}`;
  return shown;
}

interface Section {
  name: string;
  lines: string[];
}

function renderMessage(
  message: DescriptorProto,
  prefix: string,
  path: number[],
  comments: Map<string, string>,
  documented: Set<string>,
  out: Section[],
): void {
  if (message.options?.mapEntry) return;
  const name = `${prefix}.${message.name}`;
  const lines = [`#### ${name}`, ""];
  const comment = comments.get(path.join(","));
  if (comment) lines.push(comment, "");
  if (message.field.length === 0) lines.push("No fields.");
  else {
    lines.push("| field | number | type | description |", "| --- | --- | --- | --- |");
    message.field.forEach((field, i) => {
      const oneof = isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex) &&
          !field.proto3Optional
        ? ` (one of \`${message.oneofDecl[field.oneofIndex]?.name}\`)`
        : "";
      lines.push(
        `| \`${field.name}\` | ${field.number} | ${fieldType(field, message, documented)} | ${
          cell((comments.get([...path, 2, i].join(",")) ?? "") + oneof)
        } |`,
      );
    });
  }
  out.push({ name, lines });
  message.nestedType.forEach((nested, i) =>
    renderMessage(nested, name, [...path, 3, i], comments, documented, out)
  );
  message.enumType.forEach((e, i) => renderEnum(e, name, [...path, 4, i], comments, out));
}

function renderEnum(
  e: EnumDescriptorProto,
  prefix: string,
  path: number[],
  comments: Map<string, string>,
  out: Section[],
): void {
  const name = `${prefix}.${e.name}`;
  const lines = [`#### ${name}`, ""];
  const comment = comments.get(path.join(","));
  if (comment) lines.push(comment, "");
  lines.push("| value | number | description |", "| --- | --- | --- |");
  e.value.forEach((v, i) =>
    lines.push(
      `| \`${v.name}\` | ${v.number} | ${cell(comments.get([...path, 2, i].join(",")) ?? "")} |`,
    )
  );
  out.push({ name, lines });
}

function typeNames(file: FileDescriptorProto): string[] {
  const names: string[] = [];
  const walk = (m: DescriptorProto, prefix: string) => {
    const name = `${prefix}.${m.name}`;
    if (!m.options?.mapEntry) names.push(name);
    m.nestedType.forEach((n) => walk(n, name));
    m.enumType.forEach((e) => names.push(`${name}.${e.name}`));
  };
  file.messageType.forEach((m) => walk(m, file.package));
  file.enumType.forEach((e) => names.push(`${file.package}.${e.name}`));
  return names;
}

/**
 * Renders docs/api.md for the files whose package starts with `platform.` (the vendored gRPC
 * health and reflection protocols are listed, not documented).
 *
 * @example
 * ```ts
 * const markdown = renderApiReference(fromBinary(FileDescriptorSetSchema, image));
 * ```
 */
export function renderApiReference(set: FileDescriptorSet): string {
  const files = set.file.filter((f) => f.package.startsWith("platform."))
    .sort((a, b) => a.name.localeCompare(b.name));
  const vendored = set.file.filter((f) => f.package.startsWith("grpc.") && f.service.length > 0);
  const documented = new Set(files.flatMap(typeNames));
  const lines = [
    "# API reference",
    "",
    "<!-- Generated by `deno task gen` (scripts/api_docs.ts) from the comments in proto/; edit the",
    "     .proto files, not this file. `deno task gen:check` fails when it is stale. -->",
    "",
    "The protocols each port speaks are in [README.md](../README.md); operating the services is in",
    "[operations.md](operations.md).",
    "In JSON, field names are the lowerCamelCase of the names below (`display_name` is",
    "`displayName`); both are accepted.",
    "",
    "## Services",
    "",
  ];
  const services = files.flatMap((file) => file.service.map((s, i) => ({ file, s, i })));
  for (const { file, s } of services) {
    const name = `${file.package}.${s.name}`;
    const port = SERVICE_PORTS[name];
    lines.push(`- [\`${name}\`](#${anchor(name)})${port ? ` on :${port}` : ""}`);
  }
  lines.push(
    "",
    `Also on every port: ${
      vendored.flatMap((f) => f.service.map((s) => `\`${f.package}.${s.name}\``)).join(", ")
    } (the standard gRPC protocols), and \`GET /health\`, \`/livez\`, \`/readyz\`, \`/metrics\`.`,
    "",
  );
  for (const { file, s, i } of services) {
    const comments = commentsOf(file);
    const name = `${file.package}.${s.name}`;
    lines.push(`### ${name}`, "");
    const comment = comments.get([6, i].join(","));
    if (comment) lines.push(comment, "");
    lines.push(`Defined in \`proto/${file.name}\`.`, "");
    lines.push("| method | request | response | description |", "| --- | --- | --- | --- |");
    s.method.forEach((m, k) => {
      const request = typeLink(m.inputType, documented);
      const response = typeLink(m.outputType, documented);
      lines.push(
        `| \`${m.name}\` | ${m.clientStreaming ? "stream " : ""}${request} | ${
          m.serverStreaming ? "stream " : ""
        }${response} | ${cell(comments.get([6, i, 2, k].join(",")) ?? "")} |`,
      );
    });
    lines.push("");
  }
  for (const file of files) {
    const comments = commentsOf(file);
    const sections: Section[] = [];
    file.messageType.forEach((m, i) =>
      renderMessage(m, file.package, [4, i], comments, documented, sections)
    );
    file.enumType.forEach((e, i) => renderEnum(e, file.package, [5, i], comments, sections));
    if (sections.length === 0) continue;
    lines.push(`## ${file.package} (\`proto/${file.name}\`)`, "");
    for (const section of sections) lines.push(...section.lines, "");
  }
  return lines.join("\n").replace(/\n+$/, "\n");
}
