/** API tokens (docs/API.md, "Tokens"). */
import type { TokenCreatedWire, TokenWire } from '../../common/api-schemas.ts'
import { request } from './request.ts'

export type TokenRow = TokenWire
/** A new token as created: its secret, shown once. */
export type TokenCreated = TokenCreatedWire

export async function listTokens(): Promise<TokenRow[]> {
  return (await request<{ tokens: TokenRow[] }>('GET', '/api/tokens')).tokens
}

export async function createToken(body: {
  label: string
  scope: 'read-only' | 'role'
  expiresInDays?: number
}): Promise<TokenCreated> {
  return request('POST', '/api/tokens', body)
}

export async function revokeToken(id: string): Promise<void> {
  await request<void>('DELETE', `/api/tokens/${encodeURIComponent(id)}`)
}
