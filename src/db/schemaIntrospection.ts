// Compares a live PostgreSQL schema with what schema.prisma declares.
// - `introspectDatabase` reads tables, columns, enums, keys, indexes and foreign keys from pg_catalog.
// - `loadPrismaDatamodel` gets Prisma's own DMMF for schema.prisma from the WebAssembly schema module
//   that ships inside the installed `prisma` CLI (the schema engine binary is not needed for this).
// - `expectedSchemaFromDatamodel` turns the DMMF into the database objects Prisma Migrate would create
//   (Prisma's default constraint names, PostgreSQL types and default expressions as pg_catalog prints them).
// - `describeSchema` / `compareSchemas` / `formatSchemaDiff` reduce both sides to one fact per line, so
//   a mismatch reads as "missing …" / "unexpected …" lines.
// Used by test/integration/schema-migrations.test.ts; usable by a deployment check as well.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type pg from 'pg';

// ---------------------------------------------------------------------------------------------------
// Prisma DMMF (the subset used here; see @prisma/dmmf for the full shape)

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUpdatedAt?: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  hasDefaultValue: boolean;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema?: string | null;
  fields: DmmfField[];
  primaryKey?: { name: string | null; fields: string[] } | null;
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName?: string | null }[];
}

export interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string;
  algorithm?: string;
  fields: { name: string; sortOrder?: 'asc' | 'desc' }[];
}

export interface DmmfDatamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

// The project compiles against ES2023 + @types/node, which do not declare the WebAssembly global, so the
// few members used here are typed locally.
interface WasmTable {
  grow(delta: number): number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}
interface WasmModuleImport {
  module: string;
  name: string;
  kind: string;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: unknown }>;
  Module: { imports(module: object): WasmModuleImport[] };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface PrismaSchemaWasmExports {
  memory: { buffer: ArrayBuffer };
  __wbindgen_externrefs: WasmTable;
  __wbindgen_start(): void;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __externref_table_dealloc(index: number): void;
  get_dmmf(ptr: number, len: number): [number, number, number, number];
}

let schemaWasm: PrismaSchemaWasmExports | undefined;

/** Path of prisma_schema_build_bg.wasm inside the installed `prisma` CLI package. */
export function prismaSchemaWasmPath(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('prisma/package.json');
  } catch (err) {
    throw new Error('the `prisma` package (a devDependency) is needed to read schema.prisma', { cause: err });
  }
  const path = join(dirname(packageJson), 'build', 'prisma_schema_build_bg.wasm');
  if (!existsSync(path)) throw new Error(`the installed prisma CLI has no ${basename(path)} at ${path}`);
  return path;
}

/**
 * Instantiates the CLI's own copy of @prisma/prisma-schema-wasm. The CLI bundles the wasm-bindgen glue
 * into cli.js, so the handful of imports it needs are provided here, matched by prefix because
 * wasm-bindgen suffixes each name with a per-build hash.
 */
async function loadSchemaWasm(): Promise<PrismaSchemaWasmExports> {
  if (schemaWasm !== undefined) return schemaWasm;
  const module = await Wasm.compile(await readFile(prismaSchemaWasmPath()));
  // Assigned once the module is instantiated; the import shims above read it lazily.
  // eslint-disable-next-line prefer-const
  let exports: PrismaSchemaWasmExports | undefined;
  const text = (ptr: number, len: number) =>
    new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(exports!.memory.buffer, ptr >>> 0, len));

  const imports: Record<string, Record<string, (...args: number[]) => unknown>> = {};
  for (const { module: from, name } of Wasm.Module.imports(module)) {
    let fn: (...args: number[]) => unknown;
    if (name.startsWith('__wbg_Error_')) fn = (ptr, len) => new Error(text(ptr!, len!));
    else if (name.startsWith('__wbg___wbindgen_throw_')) {
      fn = (ptr, len) => {
        throw new Error(text(ptr!, len!));
      };
    } else if (name.startsWith('__wbg_set_message_')) {
      fn = () => undefined; // panic-message hook; the panic itself still surfaces as a trap
    } else if (name === '__wbindgen_init_externref_table') {
      fn = () => {
        const table = exports!.__wbindgen_externrefs;
        const offset = table.grow(4);
        table.set(0, undefined);
        table.set(offset + 0, undefined);
        table.set(offset + 1, null);
        table.set(offset + 2, true);
        table.set(offset + 3, false);
      };
    } else {
      throw new Error(`prisma_schema_build_bg.wasm wants an unknown import ${from}.${name}; update schemaIntrospection.ts`);
    }
    (imports[from] ??= {})[name] = fn;
  }

  const instance = await Wasm.instantiate(module, imports);
  exports = instance.exports as unknown as PrismaSchemaWasmExports;
  exports.__wbindgen_start();
  schemaWasm = exports;
  return exports;
}

/** Prisma's DMMF datamodel for a schema file, exactly as `prisma generate` computes it. */
export async function loadPrismaDatamodel(schemaPath: string): Promise<DmmfDatamodel> {
  const wasm = await loadSchemaWasm();
  const params = JSON.stringify({ prismaSchema: [[schemaPath, await readFile(schemaPath, 'utf8')]], noColor: true });
  const bytes = new TextEncoder().encode(params);
  const ptr = wasm.__wbindgen_malloc(bytes.length, 1) >>> 0;
  new Uint8Array(wasm.memory.buffer).set(bytes, ptr);
  const [outPtr, outLen, errIndex, isErr] = wasm.get_dmmf(ptr, bytes.length);
  if (isErr) {
    const err: unknown = wasm.__wbindgen_externrefs.get(errIndex);
    wasm.__externref_table_dealloc(errIndex);
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`Prisma rejected ${schemaPath}: ${message}`);
  }
  try {
    const json = new TextDecoder().decode(new Uint8Array(wasm.memory.buffer, outPtr >>> 0, outLen));
    return (JSON.parse(json) as { datamodel: DmmfDatamodel }).datamodel;
  } finally {
    wasm.__wbindgen_free(outPtr, outLen, 1);
  }
}

// ---------------------------------------------------------------------------------------------------
// Schema snapshot: the database objects that matter to Prisma, in one comparable shape

export interface ColumnInfo {
  table: string;
  name: string;
  /** format_type() output, or `enum <name>` / `enum <name>[]` for enum columns. */
  type: string;
  nullable: boolean;
  /** pg_get_expr() of the column default, or null. */
  default: string | null;
  /** Identity / generated column marker ('' when neither). */
  extra: string;
}

export interface IndexInfo {
  table: string;
  name: string;
  unique: boolean;
  /** Key columns in index order, ` DESC` appended where descending. */
  columns: string[];
  method: string;
  predicate: string | null;
  /** Backed by a UNIQUE/EXCLUDE constraint instead of being a plain (Prisma-style) index. */
  isConstraint: boolean;
}

export interface ConstraintInfo {
  table: string;
  name: string;
  columns: string[];
}

export interface ForeignKeyInfo extends ConstraintInfo {
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface SchemaSnapshot {
  tables: string[];
  views: string[];
  columns: ColumnInfo[];
  enums: { name: string; values: string[] }[];
  primaryKeys: ConstraintInfo[];
  indexes: IndexInfo[];
  foreignKeys: ForeignKeyInfo[];
  /** CHECK / EXCLUDE constraints (Prisma never creates them; listed so extras show up). */
  otherConstraints: (ConstraintInfo & { kind: string; definition: string })[];
}

const FK_ACTIONS: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/** Reads the schema `schema` (default: the connection's current schema) from pg_catalog. */
export async function introspectDatabase(client: pg.ClientBase, schema?: string): Promise<SchemaSnapshot> {
  const ns = schema ?? (await client.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s ?? 'public';

  const relations = await client.query<{ name: string; kind: string }>(
    `SELECT c.relname::text AS name, c.relkind::text AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [ns],
  );

  const columns = await client.query<{
    table: string;
    name: string;
    type: string;
    nullable: boolean;
    default: string | null;
    identity: string;
    generated: string;
  }>(
    `SELECT c.relname::text AS table, a.attname::text AS name,
            CASE WHEN t.typtype = 'e' THEN 'enum ' || t.typname::text
                 WHEN et.typtype = 'e' THEN 'enum ' || et.typname::text || '[]'
                 ELSE format_type(a.atttypid, a.atttypmod) END AS type,
            NOT a.attnotnull AS nullable,
            pg_get_expr(d.adbin, d.adrelid) AS default,
            a.attidentity::text AS identity, a.attgenerated::text AS generated
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
    [ns],
  );

  const enums = await client.query<{ name: string; values: string[] }>(
    `SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1
      GROUP BY t.typname`,
    [ns],
  );

  const constraints = await client.query<{
    name: string;
    kind: string;
    table: string;
    columns: string[];
    referenced_table: string | null;
    referenced_columns: string[];
    on_delete: string;
    on_update: string;
    definition: string;
  }>(
    `SELECT con.conname::text AS name, con.contype::text AS kind, rel.relname::text AS table,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            frel.relname::text AS referenced_table,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS referenced_columns,
            con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
            pg_get_constraintdef(con.oid, true) AS definition
       FROM pg_constraint con
       JOIN pg_class rel ON rel.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = rel.relnamespace
       LEFT JOIN pg_class frel ON frel.oid = con.confrelid
      WHERE n.nspname = $1 AND con.contype IN ('p', 'f', 'c', 'x')`,
    [ns],
  );

  const indexes = await client.query<{
    name: string;
    table: string;
    unique: boolean;
    primary: boolean;
    method: string;
    predicate: string | null;
    columns: string[];
    is_constraint: boolean;
  }>(
    `SELECT i.relname::text AS name, t.relname::text AS table, ix.indisunique AS unique, ix.indisprimary AS primary,
            am.amname::text AS method, pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
            ARRAY(SELECT CASE WHEN k.attnum = 0 THEN pg_get_indexdef(ix.indexrelid, k.ord::int, true)
                              ELSE a.attname::text END
                         || CASE WHEN (ix.indoption[k.ord - 1] & 1) = 1 THEN ' DESC' ELSE '' END
                    FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                   WHERE k.ord <= ix.indnkeyatts
                   ORDER BY k.ord) AS columns,
            EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u', 'x'))
              AS is_constraint
       FROM pg_index ix
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_am am ON am.oid = i.relam
      WHERE n.nspname = $1`,
    [ns],
  );

  return {
    tables: relations.rows.filter((r) => r.kind === 'r' || r.kind === 'p').map((r) => r.name),
    views: relations.rows.filter((r) => r.kind !== 'r' && r.kind !== 'p').map((r) => `${r.name} (relkind ${r.kind})`),
    columns: columns.rows.map((c) => ({
      table: c.table,
      name: c.name,
      type: c.type,
      nullable: c.nullable,
      default: c.default,
      extra:
        (c.identity === 'a' ? ' GENERATED ALWAYS AS IDENTITY' : c.identity === 'd' ? ' GENERATED BY DEFAULT AS IDENTITY' : '') +
        (c.generated === 's' ? ' GENERATED ALWAYS AS (...) STORED' : ''),
    })),
    enums: enums.rows,
    primaryKeys: constraints.rows
      .filter((c) => c.kind === 'p')
      .map((c) => ({ table: c.table, name: c.name, columns: c.columns })),
    // The primary key's own index is described by its constraint above.
    indexes: indexes.rows
      .filter((i) => !i.primary)
      .map((i) => ({
        table: i.table,
        name: i.name,
        unique: i.unique,
        columns: i.columns,
        method: i.method,
        predicate: i.predicate,
        isConstraint: i.is_constraint,
      })),
    foreignKeys: constraints.rows
      .filter((c) => c.kind === 'f')
      .map((c) => ({
        table: c.table,
        name: c.name,
        columns: c.columns,
        referencedTable: c.referenced_table ?? '?',
        referencedColumns: c.referenced_columns,
        onDelete: FK_ACTIONS[c.on_delete] ?? c.on_delete,
        onUpdate: FK_ACTIONS[c.on_update] ?? c.on_update,
      })),
    otherConstraints: constraints.rows
      .filter((c) => c.kind === 'c' || c.kind === 'x')
      .map((c) => ({ table: c.table, name: c.name, columns: c.columns, kind: c.kind, definition: c.definition })),
  };
}

// ---------------------------------------------------------------------------------------------------
// Expected schema from the DMMF, following Prisma Migrate's PostgreSQL rules

/** PostgreSQL's identifier limit, which Prisma's default constraint names respect. */
const MAX_IDENTIFIER_LENGTH = 63;

/**
 * Prisma's default constraint name (psl ConstraintNames): `<table>_<columns>_<suffix>`, the prefix
 * truncated so the whole name fits in 63 bytes. `columns` is empty for primary keys (`<table>_pkey`).
 */
export function prismaConstraintName(table: string, columns: string[], suffix: 'pkey' | 'key' | 'idx' | 'fkey'): string {
  let prefix = columns.length > 0 ? `${table}_${columns.join('_')}` : table;
  const room = MAX_IDENTIFIER_LENGTH - suffix.length - 1;
  if (Buffer.byteLength(prefix) >= room) {
    while (Buffer.byteLength(prefix) > room) prefix = prefix.slice(0, -1);
  }
  return `${prefix}_${suffix}`;
}

/** PostgreSQL type names as format_type() prints them, for Prisma's native types. */
function nativeTypeName(name: string, args: string[]): string | undefined {
  const a = args.length > 0 ? `(${args.join(',')})` : '';
  switch (name) {
    case 'Text': return 'text';
    case 'Uuid': return 'uuid';
    case 'VarChar': return `character varying${a}`;
    case 'Char': return `character${a === '' ? '(1)' : a}`;
    case 'SmallInt': return 'smallint';
    case 'Integer': return 'integer';
    case 'BigInt': return 'bigint';
    case 'Oid': return 'oid';
    case 'Real': return 'real';
    case 'DoublePrecision': return 'double precision';
    case 'Decimal': return `numeric${a}`;
    case 'Money': return 'money';
    case 'Boolean': return 'boolean';
    case 'Date': return 'date';
    case 'Time': return `time${a} without time zone`;
    case 'Timetz': return `time${a} with time zone`;
    case 'Timestamp': return `timestamp${a} without time zone`;
    case 'Timestamptz': return `timestamp${a} with time zone`;
    case 'Json': return 'json';
    case 'JsonB': return 'jsonb';
    case 'ByteA': return 'bytea';
    case 'Xml': return 'xml';
    case 'Inet': return 'inet';
    case 'Citext': return 'citext';
    case 'Bit': return `bit${a === '' ? '(1)' : a}`;
    case 'VarBit': return `bit varying${a}`;
    default: return undefined;
  }
}

/** Column type for a scalar without @db.*: Prisma's default PostgreSQL mapping. */
const DEFAULT_TYPES: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

/** Quotes like PostgreSQL's quote_ident (without its reserved-keyword list). */
function pgQuoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function dbName(entity: { name: string; dbName?: string | null }): string {
  return entity.dbName ?? entity.name;
}

export function expectedSchemaFromDatamodel(datamodel: DmmfDatamodel): SchemaSnapshot {
  const models = new Map(datamodel.models.map((model) => [model.name, model]));
  const enums = new Map(datamodel.enums.map((e) => [e.name, e]));
  const snapshot: SchemaSnapshot = {
    tables: [],
    views: [],
    columns: [],
    enums: datamodel.enums.map((e) => ({ name: dbName(e), values: e.values.map(dbName) })),
    primaryKeys: [],
    indexes: [],
    foreignKeys: [],
    otherConstraints: [],
  };

  const columnOf = (model: DmmfModel, fieldName: string): string => {
    const field = model.fields.find((f) => f.name === fieldName);
    return field === undefined ? `<unknown field ${model.name}.${fieldName}>` : dbName(field);
  };

  for (const model of datamodel.models) {
    const table = dbName(model);
    snapshot.tables.push(table);

    for (const field of model.fields) {
      if (field.kind === 'object') continue;
      const { type, baseType } = expectedColumnType(field, enums);
      snapshot.columns.push({
        table,
        name: dbName(field),
        type,
        // Prisma creates scalar-list columns without NOT NULL.
        nullable: field.isList || !field.isRequired,
        default: expectedDefault(field, table, type, baseType, enums),
        extra: '',
      });
    }

    const modelIndexes = datamodel.indexes.filter((index) => index.model === model.name);
    const id = modelIndexes.find((index) => index.type === 'id');
    const pkColumns = id
      ? id.fields.map((f) => columnOf(model, f.name))
      : (model.primaryKey?.fields ?? model.fields.filter((f) => f.isId).map((f) => f.name)).map((name) =>
          columnOf(model, name),
        );
    if (pkColumns.length > 0) {
      snapshot.primaryKeys.push({ table, name: id?.dbName ?? prismaConstraintName(table, [], 'pkey'), columns: pkColumns });
    }

    for (const index of modelIndexes) {
      if (index.type === 'id') continue;
      const columns = index.fields.map((f) => columnOf(model, f.name));
      const unique = index.type === 'unique';
      snapshot.indexes.push({
        table,
        name: index.dbName ?? prismaConstraintName(table, columns, unique ? 'key' : 'idx'),
        unique,
        columns: index.fields.map((f, i) => `${columns[i]}${f.sortOrder === 'desc' ? ' DESC' : ''}`),
        method: index.algorithm?.toLowerCase() ?? 'btree',
        predicate: null,
        // Prisma renders @unique/@@unique as CREATE UNIQUE INDEX, never as a UNIQUE constraint.
        isConstraint: false,
      });
    }

    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
      const target = models.get(field.type);
      const columns = field.relationFromFields.map((name) => columnOf(model, name));
      snapshot.foreignKeys.push({
        table,
        // The DMMF does not carry @relation(map: …); with one, this default name shows up as a mismatch.
        name: prismaConstraintName(table, columns, 'fkey'),
        columns,
        referencedTable: target ? dbName(target) : `<unknown model ${field.type}>`,
        referencedColumns: (field.relationToFields ?? []).map((name) => (target ? columnOf(target, name) : name)),
        // Prisma's defaults with foreign keys: Restrict for required relations, SetNull for optional;
        // onUpdate Cascade.
        onDelete: referentialAction(field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull')),
        onUpdate: referentialAction(field.relationOnUpdate ?? 'Cascade'),
      });
    }
  }
  return snapshot;
}

function referentialAction(action: string): string {
  const sql: Record<string, string> = {
    Cascade: 'CASCADE',
    Restrict: 'RESTRICT',
    NoAction: 'NO ACTION',
    SetNull: 'SET NULL',
    SetDefault: 'SET DEFAULT',
  };
  return sql[action] ?? `<unknown action ${action}>`;
}

function expectedColumnType(field: DmmfField, enums: Map<string, DmmfEnum>): { type: string; baseType: string } {
  const list = field.isList ? '[]' : '';
  if (field.kind === 'enum') {
    const e = enums.get(field.type);
    const name = e ? dbName(e) : field.type;
    return { type: `enum ${name}${list}`, baseType: pgQuoteIdent(name) };
  }
  const native = field.nativeType ? nativeTypeName(field.nativeType[0], field.nativeType[1]) : undefined;
  const base =
    native ??
    (field.nativeType ? `<unmapped native type ${field.nativeType[0]}>` : undefined) ??
    DEFAULT_TYPES[field.type] ??
    `<unmapped type ${field.type}>`;
  return { type: `${base}${list}`, baseType: base };
}

/** The default expression PostgreSQL prints (pg_get_expr) for what Prisma Migrate would render. */
function expectedDefault(
  field: DmmfField,
  table: string,
  type: string,
  baseType: string,
  enums: Map<string, DmmfEnum>,
): string | null {
  if (!field.hasDefaultValue || field.default === undefined || field.default === null) return null;
  const value = field.default;

  if (typeof value === 'object' && !Array.isArray(value)) {
    const fn = value as { name: string; args?: unknown[] };
    switch (fn.name) {
      case 'now':
        return 'CURRENT_TIMESTAMP';
      case 'autoincrement':
        // SERIAL/BIGSERIAL: the sequence PostgreSQL names <table>_<column>_seq.
        return `nextval('${pgQuoteIdent(`${table}_${dbName(field)}_seq`)}'::regclass)`;
      case 'dbgenerated':
        return typeof fn.args?.[0] === 'string' ? fn.args[0] : null;
      case 'uuid':
      case 'cuid':
      case 'nanoid':
      case 'ulid':
        return null; // generated by Prisma Client, not by the database
      default:
        return `<default ${fn.name}() not mapped in schemaIntrospection.ts>`;
    }
  }

  const enumValue = (name: string): string => {
    const e = enums.get(field.type);
    const v = e?.values.find((candidate) => candidate.name === name);
    return v ? dbName(v) : name;
  };
  const literal = (v: unknown): string => {
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'number') {
      // pg prints non-negative int4-range numbers bare, anything else as a typed string literal.
      return v >= 0 && (!Number.isInteger(v) || v <= 2147483647) ? String(v) : `'${v}'::${baseType}`;
    }
    if (typeof v === 'string') {
      if (field.type === 'DateTime') return `<DateTime literal default not mapped: ${v}>`;
      const text = field.kind === 'enum' ? enumValue(v) : v;
      return `'${text.replace(/'/g, "''")}'::${baseType}`;
    }
    return `<default ${JSON.stringify(v)} not mapped>`;
  };

  if (Array.isArray(value)) {
    const pgType = field.kind === 'enum' ? `${baseType}[]` : type;
    return value.length === 0 ? `ARRAY[]::${pgType}` : `ARRAY[${value.map(literal).join(', ')}]`;
  }
  return literal(value);
}

// ---------------------------------------------------------------------------------------------------
// Comparison

/** One line per database object; equal schemas give equal sorted lists. */
export function describeSchema(snapshot: SchemaSnapshot): string[] {
  const list = (columns: string[]) => `(${columns.join(', ')})`;
  const lines = [
    ...snapshot.tables.map((t) => `table ${t}`),
    ...snapshot.views.map((v) => `view ${v}`),
    ...snapshot.enums.map((e) => `enum ${e.name} = ${list(e.values)}`),
    ...snapshot.columns.map(
      (c) =>
        `column ${c.table}.${c.name}: ${c.type}${c.nullable ? ' NULL' : ' NOT NULL'}` +
        `${c.default === null ? '' : ` DEFAULT ${c.default}`}${c.extra}`,
    ),
    ...snapshot.primaryKeys.map((k) => `primary key ${k.name} on ${k.table} ${list(k.columns)}`),
    ...snapshot.indexes.map(
      (i) =>
        `${i.unique ? 'unique ' : ''}${i.isConstraint ? 'constraint' : 'index'} ${i.name} on ${i.table} ` +
        `${i.method === 'btree' ? '' : `USING ${i.method} `}${list(i.columns)}` +
        `${i.predicate === null ? '' : ` WHERE ${i.predicate}`}`,
    ),
    ...snapshot.foreignKeys.map(
      (f) =>
        `foreign key ${f.name} on ${f.table} ${list(f.columns)} -> ${f.referencedTable} ${list(f.referencedColumns)} ` +
        `ON DELETE ${f.onDelete} ON UPDATE ${f.onUpdate}`,
    ),
    ...snapshot.otherConstraints.map((c) => `constraint ${c.name} on ${c.table}: ${c.definition}`),
  ];
  return lines.sort();
}

export interface SchemaDiff {
  /** Declared by schema.prisma but absent (or different) in the database. */
  missing: string[];
  /** Present in the database but not declared (or declared differently). */
  unexpected: string[];
}

/**
 * Facts of `expected` not in `actual` and vice versa. Objects on `ignoreTables` (e.g. Prisma's own
 * `_prisma_migrations`) are left out of the database side.
 */
export function compareSchemas(
  expected: SchemaSnapshot,
  actual: SchemaSnapshot,
  { ignoreTables = [] as string[] } = {},
): SchemaDiff {
  const ignored = new Set(ignoreTables);
  const keep = <T extends { table: string }>(items: T[]) => items.filter((item) => !ignored.has(item.table));
  const filtered: SchemaSnapshot = {
    ...actual,
    tables: actual.tables.filter((t) => !ignored.has(t)),
    columns: keep(actual.columns),
    primaryKeys: keep(actual.primaryKeys),
    indexes: keep(actual.indexes),
    foreignKeys: keep(actual.foreignKeys),
    otherConstraints: keep(actual.otherConstraints),
  };
  const want = describeSchema(expected);
  const have = describeSchema(filtered);
  const haveSet = new Set(have);
  const wantSet = new Set(want);
  return {
    missing: want.filter((line) => !haveSet.has(line)),
    unexpected: have.filter((line) => !wantSet.has(line)),
  };
}

export function formatSchemaDiff(diff: SchemaDiff, declaredBy = 'schema.prisma'): string {
  if (diff.missing.length === 0 && diff.unexpected.length === 0) return 'schemas match';
  const parts = [`the database schema differs from ${declaredBy}:`];
  if (diff.missing.length > 0) {
    parts.push(`  declared in ${declaredBy} but missing or different in the database:`);
    parts.push(...diff.missing.map((line) => `    - ${line}`));
  }
  if (diff.unexpected.length > 0) {
    parts.push(`  in the database but not declared that way in ${declaredBy}:`);
    parts.push(...diff.unexpected.map((line) => `    + ${line}`));
  }
  return parts.join('\n');
}
