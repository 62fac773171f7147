/** The signed-in user's session: who they are, and signing out. */
import type { UserWire } from '../../common/api-schemas.ts'
import type { Me } from '../types.ts'
import { request } from './request.ts'

export async function me(): Promise<Me> {
  const u = await request<UserWire>('GET', '/api/me')
  return { username: u.username, role: u.role }
}

export async function logout(): Promise<void> {
  await request<void>('POST', '/api/logout')
}
