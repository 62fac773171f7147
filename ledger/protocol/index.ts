/**
 * ColdProof wire protocol v1: the one owner of every byte that crosses a
 * boundary. Depends on nothing else in the project; runs in Node and browsers.
 * The specification for firmware authors is docs/PROTOCOL.md.
 */
export * from './errors.ts'
export * from './bytes.ts'
export * from './reading.ts'
export * from './signing.ts'
export * from './keys.ts'
export * from './topics.ts'
export * from './control.ts'
export * from './auth-token.ts'
export * from './verify.ts'
export * from './reason-codes.ts'
