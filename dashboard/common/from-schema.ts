/**
 * The TypeScript type of the values a JSON Schema (written `as const`)
 * accepts, so a schema is the one owner of an API shape and the server's views
 * and the browser's client take their types from it.
 *
 * Covers the subset the API's schemas use: type (one or a list, e.g.
 * ['integer', 'null']), object / properties / required / additionalProperties,
 * array / items, enum, const, anyOf / oneOf, and `$ref: '<Id>#'` resolved
 * among `Refs` (a union of schemas with `$id`). Anything else (pattern,
 * minimum, ...) constrains values, not their type, and is ignored. A property
 * not in `required` is optional. Types only: nothing here runs.
 */

/** `$ref: 'Gs1#'` → the schema in Refs whose `$id` is 'Gs1'. */
type FromRef<Ref extends string, Refs> = FromSchema<
  Extract<Refs, { readonly $id: Ref extends `${infer Id}#` ? Id : Ref }>,
  Refs
>

type Simplify<T> = { [K in keyof T]: T[K] } & {}

type RequiredKeys<S> = S extends { readonly required: readonly (infer K)[] } ? K : never

type AdditionalOf<A, Refs> = A extends true ? unknown : A extends false ? never : FromSchema<A, Refs>

type FromObject<S, Refs> = S extends { readonly properties: infer P }
  ? Simplify<
      { -readonly [K in keyof P as K extends RequiredKeys<S> ? K : never]: FromSchema<P[K], Refs> } & {
        -readonly [K in keyof P as K extends RequiredKeys<S> ? never : K]?: FromSchema<P[K], Refs>
      } & (S extends { readonly additionalProperties: infer A }
          ? A extends false
            ? unknown
            : Record<string, AdditionalOf<A, Refs>>
          : unknown)
    >
  : // No properties listed: a map of whatever additionalProperties allows (anything, when not given).
    Record<string, S extends { readonly additionalProperties: infer A } ? AdditionalOf<A, Refs> : unknown>

type FromType<T, S, Refs> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? S extends { readonly items: infer I }
            ? FromSchema<I, Refs>[]
            : unknown[]
          : T extends 'object'
            ? FromObject<S, Refs>
            : unknown

export type FromSchema<S, Refs = never> = S extends { readonly $ref: infer Ref extends string }
  ? FromRef<Ref, Refs>
  : S extends { readonly const: infer C }
    ? C
    : S extends { readonly enum: readonly (infer E)[] }
      ? E
      : S extends { readonly anyOf: readonly (infer U)[] }
        ? U extends unknown
          ? FromSchema<U, Refs>
          : never
        : S extends { readonly oneOf: readonly (infer U)[] }
          ? U extends unknown
            ? FromSchema<U, Refs>
            : never
          : S extends { readonly type: readonly (infer T)[] }
            ? T extends unknown
              ? FromType<T, S, Refs>
              : never
            : S extends { readonly type: infer T }
              ? FromType<T, S, Refs>
              : unknown
