/** User accounts (docs/API.md, "Users"). */
import type { UserWire } from '../../common/api-schemas.ts'
import type { Role } from '../types.ts'
import { request } from './request.ts'

export interface UserRow {
  username: string
  role: Role
  disabled: boolean
  createdAt: number | null
}

const mapUser = (u: UserWire): UserRow => ({
  username: u.username,
  role: u.role,
  disabled: u.disabled === true,
  createdAt: u.createdAt ?? null,
})

export async function listUsers(): Promise<UserRow[]> {
  return (await request<{ users: UserWire[] }>('GET', '/api/users')).users.map(mapUser)
}

export async function createUser(body: { username: string; password: string; role: Role }): Promise<UserRow> {
  return mapUser(await request<UserWire>('POST', '/api/users', body))
}

export async function changeUser(
  username: string,
  change: { password?: string; role?: Role; disabled?: boolean },
): Promise<UserRow> {
  return mapUser(await request<UserWire>('PATCH', `/api/users/${encodeURIComponent(username)}`, change))
}
