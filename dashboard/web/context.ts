/** What every view receives: the signed-in user, what their role may do, the live stream. */
import type { LiveStream } from './stream.ts'
import type { Me } from './types.ts'

export interface Abilities {
  /** operator, admin: acknowledge alarms, create and close shipments */
  operate: boolean
  /** admin: register and revoke devices, manage users */
  admin: boolean
}

export interface AppContext {
  me: Me
  can: Abilities
  stream: LiveStream
  /** Re-counts the open alarms shown on the Alarms tab. */
  refreshAlarmCount(): void
}

/** A view draws into `root` and returns its cleanup (unsubscribe, stop timers, destroy charts). */
export type View = (root: HTMLElement, ctx: AppContext, params: string[]) => (() => void) | void

/** The server enforces roles (docs/API.md); the UI only hides what the role cannot do. */
export function abilitiesFor(role: Me['role']): Abilities {
  return { operate: role === 'operator' || role === 'admin', admin: role === 'admin' }
}
